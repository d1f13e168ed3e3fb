package revproxy.legacy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class LogLimiterTest {

  private static final long SECOND = 1_000_000_000L;

  @Test
  void oneLinePerKeyPerIntervalAndTheRestAreCounted() {
    LogLimiter limiter = new LogLimiter(Duration.ofMinutes(1), 100, 10);
    assertTrue(limiter.allow("10.0.0.1", 0));
    assertFalse(limiter.allow("10.0.0.1", 30 * SECOND));
    assertTrue(limiter.allow("10.0.0.2", 30 * SECOND));
    assertFalse(limiter.allow("10.0.0.1", 59 * SECOND));
    assertEquals(2, limiter.takeSuppressed());
    assertEquals(0, limiter.takeSuppressed());
    assertTrue(limiter.allow("10.0.0.1", 60 * SECOND));
  }

  @Test
  void manyKeysCannotFloodTheLogPastTheOverallCap() {
    LogLimiter limiter = new LogLimiter(Duration.ofMinutes(1), 3, 10_000);
    int allowed = 0;
    for (int i = 0; i < 1000; i++) {
      if (limiter.allow("10.0." + i / 256 + "." + i % 256, i * 1000L)) {
        allowed++;
      }
    }
    assertEquals(3, allowed);
    assertEquals(997, limiter.takeSuppressed());
    assertTrue(limiter.allow("10.9.9.9", 61 * SECOND), "a new interval");
  }

  @Test
  void memoryIsBoundedByForgettingTheOldestKeys() {
    LogLimiter limiter = new LogLimiter(Duration.ofMinutes(1), 1000, 2);
    assertTrue(limiter.allow("a", 0));
    assertTrue(limiter.allow("b", 1));
    assertTrue(limiter.allow("c", 2));
    // "a" was forgotten to make room: it may be logged again within the interval.
    assertTrue(limiter.allow("a", 3));
    assertFalse(limiter.allow("c", 4));
  }
}
