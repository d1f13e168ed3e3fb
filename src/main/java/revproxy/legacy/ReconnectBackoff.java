package revproxy.legacy;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The delay before reconnecting to an unreachable legacy server: {@code reconnect-min-backoff},
 * doubling on each failure up to {@code reconnect-max-backoff}, back to the least once connected.
 * Each delay has up to 20% jitter, so that many backends of one failed host do not reconnect in
 * step.
 */
final class ReconnectBackoff {

  private final Duration min;
  private final Duration max;
  private Duration current;

  ReconnectBackoff(Duration min, Duration max) {
    this.min = min;
    this.max = max;
    this.current = min;
  }

  /** Connected: the next failure waits the least again. */
  void reset() {
    current = min;
  }

  /** The delay before the next attempt; the one after it is twice as long, up to the most. */
  Duration next() {
    Duration delay =
        current.plusMillis(
            (long) (current.toMillis() * 0.2 * ThreadLocalRandom.current().nextDouble()));
    Duration doubled = current.multipliedBy(2);
    current = doubled.compareTo(max) <= 0 ? doubled : max;
    return delay;
  }
}
