package revproxy.legacy;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Queue;
import java.util.function.Consumer;

/**
 * Requests waiting for a free connection to a legacy server, the oldest first, at most {@code
 * max-queued-per-backend}. One that has waited longer than {@code reply-timeout} is handed back
 * instead of sent: the router has retried it elsewhere by then, and it would delay fresh work.
 */
final class WaitingRequests<T> {

  private record Waiting<T>(T request, long sinceNanos) {}

  private final Queue<Waiting<T>> queue = new ArrayDeque<>();
  private final int max;
  private final long freshForNanos;

  WaitingRequests(int max, Duration freshFor) {
    this.max = max;
    this.freshForNanos = freshFor.toNanos();
  }

  /** Queues {@code request} unless {@code max} already wait; whether it was queued. */
  boolean offer(T request, long nowNanos) {
    if (queue.size() >= max) {
      return false;
    }
    queue.add(new Waiting<>(request, nowNanos));
    return true;
  }

  /** The oldest request still fresh, or null; older ones are handed to {@code stale} on the way. */
  T nextFresh(long nowNanos, Consumer<T> stale) {
    while (!queue.isEmpty()) {
      Waiting<T> next = queue.poll();
      if (nowNanos - next.sinceNanos() <= freshForNanos) {
        return next.request();
      }
      stale.accept(next.request());
    }
    return null;
  }

  /** Hands every waiting request to {@code handle}, the oldest first, and empties the queue. */
  void drain(Consumer<T> handle) {
    while (!queue.isEmpty()) {
      handle.accept(queue.poll().request());
    }
  }
}
