package revproxy.legacy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * How many connections a {@link LegacyBackend} keeps to its server and, for a server that did not
 * say ({@code connections-per-backend = auto}), how the number is learnt: it starts at one; while
 * requests wait it grows by one connection whose first request is a probe; the probe answered in
 * time, it may grow again; connected but not answered, it shrinks back and does not grow for {@code
 * probe-backoff}. Connections idle for {@code idle-close-after} close, down to one.
 *
 * <p>Plain and generic in the connection, so that its rules are tested without actors; the backend
 * opens, sends on and stops the connections.
 */
final class AdaptivePool<C> {

  /** The most connections: announced, configured, or (adaptive) what the pool may grow to. */
  private final int max;

  private final boolean adaptive;
  private final long probeBackoffNanos;
  private final long idleCloseAfterNanos;

  /** How many connections to keep now: {@code max}, or (adaptive) what was learnt. */
  private int size;

  /** The connection whose first request tests whether the server serves one more, or null. */
  private C probe;

  /** Whether the probe connection has yet to get its one request. */
  private boolean probePending;

  private long noGrowthUntilNanos;

  /** When each idle connection became idle. */
  private final Map<C, Long> idleSince = new HashMap<>();

  AdaptivePool(int max, boolean adaptive, Duration probeBackoff, Duration idleCloseAfter) {
    this.max = max;
    this.adaptive = adaptive;
    this.size = adaptive ? 1 : max;
    this.probeBackoffNanos = probeBackoff.toNanos();
    this.idleCloseAfterNanos = idleCloseAfter.toNanos();
  }

  int size() {
    return size;
  }

  /**
   * Requests wait for a free connection: if the pool may grow, it grows by one and {@code open}
   * opens the probe (null when it opened none: then the pool keeps its size). It may grow when
   * adaptive, below its most, with a connection up ({@code anyUp}), no probe out and no backoff.
   */
  void maybeGrow(boolean anyUp, long nowNanos, Supplier<C> open) {
    if (!adaptive || probe != null || size >= max || !anyUp || nowNanos - noGrowthUntilNanos < 0) {
      return;
    }
    size++;
    C opened = open.get();
    if (opened != null) {
      probe = opened;
      probePending = true;
    } else {
      size--;
    }
  }

  /**
   * {@code connection} gets a request: whether it is the probe's first one (to be sent with {@code
   * probe-timeout}).
   */
  boolean sending(C connection) {
    idleSince.remove(connection);
    boolean probing = connection.equals(probe) && probePending;
    probePending &= !probing;
    return probing;
  }

  /**
   * {@code connection} is ready again: whether it is the probe, its request answered in time (the
   * server serves this many connections at once; the pool may grow again).
   */
  boolean proven(C connection) {
    if (connection.equals(probe) && !probePending) {
      probe = null;
      return true;
    }
    return false;
  }

  /** {@code connection} is ready and gets no request now. */
  void idle(C connection, long nowNanos) {
    proven(connection);
    idleSince.put(connection, nowNanos);
  }

  /**
   * Of the {@code idle} connections, the longest idle first, those to close for {@code
   * idle-close-after}, keeping at least one; the pool shrinks by each.
   */
  List<C> idleTooLong(Iterable<C> idle, long nowNanos) {
    List<C> close = new ArrayList<>();
    for (C connection : idle) {
      Long since = idleSince.get(connection);
      if (size > 1 && since != null && nowNanos - since > idleCloseAfterNanos) {
        size--;
        idleSince.remove(connection);
        close.add(connection);
      }
    }
    return close;
  }

  /**
   * {@code connection} has ended ({@code wasUp}: after connecting). Whether it was the probe,
   * connected but not answered in time: the server serves fewer connections at once, so the pool
   * shrinks by one and does not grow for {@code probe-backoff}.
   */
  boolean ended(C connection, boolean wasUp, long nowNanos) {
    idleSince.remove(connection);
    if (!connection.equals(probe)) {
      return false;
    }
    probe = null;
    probePending = false;
    if (wasUp) {
      size = Math.max(1, size - 1);
      noGrowthUntilNanos = nowNanos + probeBackoffNanos;
    }
    return wasUp;
  }
}
