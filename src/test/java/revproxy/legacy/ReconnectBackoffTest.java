package revproxy.legacy;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ReconnectBackoffTest {

  private static void assertWithinJitter(long expectedMillis, Duration actual) {
    long millis = actual.toMillis();
    assertTrue(
        millis >= expectedMillis && millis <= expectedMillis * 12 / 10,
        actual + " not within 20% above " + expectedMillis + " ms");
  }

  @Test
  void doublesUpToTheMostWithJitter() {
    ReconnectBackoff backoff = new ReconnectBackoff(Duration.ofMillis(100), Duration.ofMillis(500));
    assertWithinJitter(100, backoff.next());
    assertWithinJitter(200, backoff.next());
    assertWithinJitter(400, backoff.next());
    assertWithinJitter(500, backoff.next());
    assertWithinJitter(500, backoff.next());
  }

  @Test
  void resetStartsAgainFromTheLeast() {
    ReconnectBackoff backoff = new ReconnectBackoff(Duration.ofMillis(100), Duration.ofSeconds(5));
    backoff.next();
    backoff.next();
    backoff.reset();
    assertWithinJitter(100, backoff.next());
  }
}
