package revproxy.bench;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * What became of the requests of one phase (warmup or measured): every request sent ends up in
 * exactly one count. Filled by one load thread, then merged; not thread-safe.
 */
public final class Outcomes {

  private long ok;
  private long wrong;
  private long timeouts;
  private long lost;
  private final Map<String, Long> errors = new TreeMap<>();

  /** A type "2" reply addressed to the request's srcid with the SHA-1 of its payload. */
  public long ok() {
    return ok;
  }

  /** Any other reply: wrong type, destid or hash, or not a well-formed object. */
  public long wrong() {
    return wrong;
  }

  /** No reply within the timeout (or, open loop, never sent before the run ended). */
  public long timeouts() {
    return timeouts;
  }

  /** In flight on a connection that failed or was closed by the peer. */
  public long lost() {
    return lost;
  }

  /** Type "3" error replies by code. */
  public Map<String, Long> errors() {
    return Collections.unmodifiableMap(errors);
  }

  public long errorCount() {
    long sum = 0;
    for (long n : errors.values()) {
      sum += n;
    }
    return sum;
  }

  /** Requests that got a reply of any kind. */
  public long replies() {
    return ok + wrong + errorCount();
  }

  /** Every request of the phase. */
  public long requests() {
    return replies() + timeouts + lost;
  }

  public long failed() {
    return requests() - ok;
  }

  void addOk() {
    ok++;
  }

  void addWrong() {
    wrong++;
  }

  void addTimeouts(long n) {
    timeouts += n;
  }

  void addLost(long n) {
    lost += n;
  }

  void addError(String code) {
    errors.merge(code == null ? "(no code)" : code, 1L, Long::sum);
  }

  void addAll(Outcomes other) {
    ok += other.ok;
    wrong += other.wrong;
    timeouts += other.timeouts;
    lost += other.lost;
    other.errors.forEach((code, n) -> errors.merge(code, n, Long::sum));
  }
}
