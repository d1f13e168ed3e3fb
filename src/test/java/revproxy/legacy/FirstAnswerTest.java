package revproxy.legacy;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class FirstAnswerTest {

  private static final long MS = 1_000_000L;

  @Test
  void aServerWithARequestUnansweredForLongerThanTheProbeTimeoutIsUnproven() {
    FirstAnswer first = new FirstAnswer(Duration.ofMillis(200));
    assertFalse(first.unproven(1000 * MS), "nothing sent yet");
    first.sent(0);
    first.sent(150 * MS);
    assertFalse(first.unproven(200 * MS));
    assertTrue(first.unproven(201 * MS), "counted from the oldest request");
  }

  @Test
  void oneAnswerProvesItForGood() {
    FirstAnswer first = new FirstAnswer(Duration.ofMillis(200));
    first.sent(0);
    first.answered();
    first.sent(300 * MS);
    assertFalse(first.unproven(10_000 * MS));
  }

  @Test
  void aLostConnectionGivesANewChance() {
    FirstAnswer first = new FirstAnswer(Duration.ofMillis(200));
    first.sent(0);
    assertTrue(first.unproven(300 * MS));
    first.connectionLost();
    assertFalse(first.unproven(300 * MS));
    first.sent(400 * MS);
    assertFalse(first.unproven(600 * MS));
    assertTrue(first.unproven(601 * MS));
  }
}
