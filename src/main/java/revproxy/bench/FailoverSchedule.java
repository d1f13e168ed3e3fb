package revproxy.bench;

import java.util.concurrent.TimeUnit;

/**
 * Which proxy a load connection uses and when it tries the next ({@code --proxy}): connection
 * {@code id} starts on proxy {@code id} modulo their number and fails over round the list, at once
 * after the first failure since a reply, then after {@link #MIN_BACKOFF_NANOS} doubling to {@link
 * #MAX_BACKOFF_NANOS}, so that a list of proxies that are all down is tried at a bounded pace.
 */
final class FailoverSchedule {

  static final long MIN_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(25);
  static final long MAX_BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final int proxies;

  /** Index into the proxies of the one in use. */
  private int target;

  /** Failovers since the last reply. */
  private int inARow;

  FailoverSchedule(int id, int proxies) {
    this.proxies = proxies;
    this.target = id % proxies;
  }

  /** The index of the proxy to connect to. */
  int target() {
    return target;
  }

  /** A reply came: the next failover is at once again. */
  void replied() {
    inARow = 0;
  }

  /** Moves to the next proxy; returns how long to wait before connecting to it, in nanoseconds. */
  long failOver() {
    target = (target + 1) % proxies;
    long backoff = 0;
    if (inARow > 0) {
      int doublings = Math.min(inARow - 1, 10);
      backoff = Math.min(MIN_BACKOFF_NANOS << doublings, MAX_BACKOFF_NANOS);
    }
    inARow++;
    return backoff;
  }
}
