package revproxy.proxy;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Queue;

/**
 * The attempts sent and not yet answered or timed out, by request id, and their expiry.
 *
 * <p>Almost every attempt gets the full attempt timeout, so those expire in the order they were
 * sent: a plain queue, O(1) per attempt. An attempt cut short by its request's deadline goes to a
 * small priority queue instead. An answered attempt lets go of its request (and payload) at once;
 * its queue entry is dropped when it reaches the head. No timer per attempt: the owner calls {@link
 * #expire} periodically while {@link #isEmpty()} is false.
 *
 * <p>Plain and single-threaded: it lives inside the {@code RouterActor}.
 */
final class InFlightAttempts {

  /** An attempt out, until it is answered or expires. */
  private static final class Entry {
    final long requestId;
    final long expiresNanos;
    Attempt attempt;

    Entry(long requestId, Attempt attempt, long expiresNanos) {
      this.requestId = requestId;
      this.attempt = attempt;
      this.expiresNanos = expiresNanos;
    }
  }

  private final long fullTimeoutNanos;
  private final Map<Long, Entry> byId = new HashMap<>();
  private final Queue<Entry> inSendOrder = new ArrayDeque<>();
  private final PriorityQueue<Entry> cutShort =
      new PriorityQueue<>(Comparator.comparingLong((Entry e) -> e.expiresNanos));

  /** {@code fullTimeoutNanos}: the attempt timeout most attempts get. */
  InFlightAttempts(long fullTimeoutNanos) {
    this.fullTimeoutNanos = fullTimeoutNanos;
  }

  boolean isEmpty() {
    return byId.isEmpty();
  }

  int size() {
    return byId.size();
  }

  /**
   * Records {@code attempt}, sent now as {@code requestId}, expiring after {@code timeoutNanos}.
   */
  void add(long requestId, Attempt attempt, long nowNanos, long timeoutNanos) {
    Entry entry = new Entry(requestId, attempt, nowNanos + timeoutNanos);
    byId.put(requestId, entry);
    if (timeoutNanos == fullTimeoutNanos) {
      inSendOrder.add(entry);
    } else {
      cutShort.add(entry);
    }
  }

  /** The attempt {@code requestId} answers, now done; null if it expired already (a late reply). */
  Attempt answered(long requestId) {
    Entry entry = byId.remove(requestId);
    if (entry == null) {
      return null;
    }
    Attempt attempt = entry.attempt;
    entry.attempt = null;
    while (!inSendOrder.isEmpty() && inSendOrder.peek().attempt == null) {
      inSendOrder.poll();
    }
    return attempt;
  }

  /** Removes and returns every attempt sent to {@code routee} (to retry them elsewhere now). */
  List<Attempt> removeSentTo(Object routee) {
    List<Attempt> removed = new ArrayList<>();
    for (java.util.Iterator<Entry> it = byId.values().iterator(); it.hasNext(); ) {
      Entry entry = it.next();
      if (entry.attempt != null && routee.equals(entry.attempt.target())) {
        removed.add(entry.attempt);
        entry.attempt = null;
        it.remove();
      }
    }
    return removed;
  }

  /** Removes and returns the attempts that expired by {@code nowNanos}, oldest first. */
  List<Attempt> expire(long nowNanos) {
    List<Attempt> expired = new ArrayList<>();
    expireFrom(inSendOrder, nowNanos, expired);
    expireFrom(cutShort, nowNanos, expired);
    if (byId.isEmpty()) {
      inSendOrder.clear();
      cutShort.clear();
    }
    return expired;
  }

  private void expireFrom(Queue<Entry> queue, long nowNanos, List<Attempt> expired) {
    while (!queue.isEmpty() && queue.peek().expiresNanos - nowNanos <= 0) {
      Entry entry = queue.poll();
      if (entry.attempt != null) {
        byId.remove(entry.requestId);
        expired.add(entry.attempt);
        entry.attempt = null;
      }
    }
  }
}
