package revproxy.bench;

import java.util.function.LongConsumer;

/**
 * The requests of one load connection that have no reply yet, by sequence number, at most {@code
 * pipeline}: when each was due and when it was last sent. Replies come in request order, so each
 * answers the oldest. After a failover they are written again, the oldest first: {@code writeSeq}
 * is the next to write, and only a written one can be answered.
 */
final class InFlight {

  private final int capacity;

  /** By sequence number modulo capacity. */
  private final long[] intended;

  private final long[] sentAt;

  /** Sequence number of the next request; the oldest in flight is {@code nextSeq - count}. */
  private long nextSeq;

  private int count;

  /** The next to write: {@code nextSeq} once all are written. */
  private long writeSeq;

  InFlight(int capacity) {
    this.capacity = capacity;
    this.intended = new long[capacity];
    this.sentAt = new long[capacity];
  }

  int count() {
    return count;
  }

  boolean isFull() {
    return count >= capacity;
  }

  /** A new request, due at {@code intendedTime} and written {@code now}; returns its number. */
  long start(long intendedTime, long now) {
    long seq = nextSeq++;
    int slot = (int) (seq % capacity);
    intended[slot] = intendedTime;
    sentAt[slot] = now;
    count++;
    writeSeq = nextSeq;
    return seq;
  }

  /** Whether some are still to be written again (after a failover). */
  boolean hasUnwritten() {
    return writeSeq < nextSeq;
  }

  /** The next to write again, now; returns its number. */
  long rewrite(long now) {
    sentAt[(int) (writeSeq % capacity)] = now;
    return writeSeq++;
  }

  /** The connection moved: every one in flight is to be written again. */
  void rewind() {
    writeSeq = nextSeq - count;
  }

  /** Whether the oldest in flight has been written, so that a reply can answer it. */
  boolean oldestWritten() {
    return count > 0 && nextSeq - count < writeSeq;
  }

  /** When the oldest in flight was last sent. */
  long oldestSentAt() {
    return sentAt[(int) ((nextSeq - count) % capacity)];
  }

  /** The oldest has its reply: removes it and returns its number. */
  long answerOldest() {
    return nextSeq - count--;
  }

  /** When request {@code seq} (in flight, or the one just answered) was due. */
  long intendedOf(long seq) {
    return intended[(int) (seq % capacity)];
  }

  /** Gives up every one in flight, handing their due times to {@code due}; returns how many. */
  int clear(LongConsumer due) {
    for (long seq = nextSeq - count; seq < nextSeq; seq++) {
      due.accept(intendedOf(seq));
    }
    int cleared = count;
    count = 0;
    return cleared;
  }

  /**
   * Gives up those still to be written again, the newest, handing their due times to {@code due}.
   */
  int clearUnwritten(LongConsumer due) {
    int unwritten = (int) (nextSeq - writeSeq);
    for (long seq = writeSeq; seq < nextSeq; seq++) {
      due.accept(intendedOf(seq));
    }
    count -= unwritten;
    nextSeq = writeSeq;
    return unwritten;
  }
}
