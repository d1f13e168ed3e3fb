package revproxy.bench;

import java.util.function.LongConsumer;

/**
 * Open loop: the slots of the {@link OpenLoopSchedule} that one load connection was given and has
 * not sent yet (its pipeline was full), the oldest first. They are consecutive slots of the
 * connection, so a count and the oldest slot are enough.
 */
final class Backlog {

  private final OpenLoopSchedule schedule;
  private long count;

  /** The oldest slot waiting, when any. */
  private long slot;

  Backlog(OpenLoopSchedule schedule) {
    this.schedule = schedule;
  }

  long count() {
    return count;
  }

  boolean isEmpty() {
    return count == 0;
  }

  /** {@code slot} of the schedule is due: it waits behind the others. */
  void add(long slot) {
    if (count == 0) {
      this.slot = slot;
    }
    count++;
  }

  /** Takes the oldest; returns when it was due. */
  long takeDueTime() {
    long due = schedule.dueTime(slot);
    count--;
    slot = schedule.nextOfConnection(slot);
    return due;
  }

  /** Gives up every one, handing their due times to {@code due}; returns how many. */
  long clear(LongConsumer due) {
    long cleared = count;
    while (count > 0) {
      due.accept(takeDueTime());
    }
    return cleared;
  }
}
