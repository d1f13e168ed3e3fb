package revproxy.bench;

/**
 * Open loop ({@code --rate}): when each request of one selector loop is due, whatever the server
 * does. Slot {@code n} is due {@code n} intervals after the start, computed from the start each
 * time so that no error adds up, and goes to connection {@code n mod connections}. A loop that
 * looks late takes every slot due by then at once, each keeping its own due time; latency is
 * counted from that time, so a server that stalls shows its stall in the percentiles instead of
 * slowing the schedule down (no coordinated omission).
 */
final class OpenLoopSchedule {

  private final double intervalNanos;
  private final int connections;
  private long start;
  private long next;

  /** {@code ratePerSecond} requests a second over {@code connections} connections. */
  OpenLoopSchedule(double ratePerSecond, int connections) {
    if (!(ratePerSecond > 0) || connections < 1) {
      throw new IllegalArgumentException(
          "an open-loop schedule needs a positive rate and a connection, got "
              + ratePerSecond
              + "/s over "
              + connections);
    }
    this.intervalNanos = 1e9 / ratePerSecond;
    this.connections = connections;
  }

  /** Slot 0 is due at {@code startNanos} ({@link System#nanoTime()}). */
  void start(long startNanos) {
    start = startNanos;
  }

  /** When {@code slot} is due. */
  long dueTime(long slot) {
    return start + (long) (slot * intervalNanos);
  }

  /** The connection, 0 to connections - 1, that {@code slot} goes to. */
  int connectionOf(long slot) {
    return (int) (slot % connections);
  }

  /** The slot after {@code slot} that goes to the same connection. */
  long nextOfConnection(long slot) {
    return slot + connections;
  }

  /** When the first slot not taken yet is due. */
  long nextDue() {
    return dueTime(next);
  }

  /** Takes the first slot not taken yet, due or not, and returns it. */
  long take() {
    return next++;
  }
}
