package revproxy.legacy;

import java.time.Duration;

/**
 * Whether a legacy server has answered yet and, before it has, since when a request has been out to
 * it on the connections now up. One that has left a request unanswered for {@code probe-timeout} is
 * unproven: it gets no other until a connection of it ends and a new one gives it a new chance.
 */
final class FirstAnswer {

  private final long probeTimeoutNanos;
  private boolean everAnswered;

  /** Before the first answer: when the oldest request out was sent, or -1. */
  private long unansweredSinceNanos = -1;

  FirstAnswer(Duration probeTimeout) {
    this.probeTimeoutNanos = probeTimeout.toNanos();
  }

  /** A request was sent to the server. */
  void sent(long nowNanos) {
    if (!everAnswered && unansweredSinceNanos < 0) {
      unansweredSinceNanos = nowNanos;
    }
  }

  void answered() {
    everAnswered = true;
  }

  /** A connection that was up has ended: its request went back to the router. */
  void connectionLost() {
    unansweredSinceNanos = -1;
  }

  /** Never answered, and a request has been out to it for longer than {@code probe-timeout}. */
  boolean unproven(long nowNanos) {
    return !everAnswered
        && unansweredSinceNanos >= 0
        && nowNanos - unansweredSinceNanos > probeTimeoutNanos;
  }
}
