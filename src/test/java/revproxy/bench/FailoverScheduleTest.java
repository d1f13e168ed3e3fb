package revproxy.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class FailoverScheduleTest {

  @Test
  void connectionsStartSpreadOverTheProxiesAndFailOverRoundTheList() {
    assertEquals(0, new FailoverSchedule(3, 3).target());
    FailoverSchedule schedule = new FailoverSchedule(4, 3);
    assertEquals(1, schedule.target());
    schedule.failOver();
    assertEquals(2, schedule.target());
    schedule.failOver();
    assertEquals(0, schedule.target());
  }

  @Test
  void theFirstFailoverIsAtOnceThenTheBackoffDoublesToItsMost() {
    FailoverSchedule schedule = new FailoverSchedule(0, 2);
    assertEquals(0, schedule.failOver());
    assertEquals(FailoverSchedule.MIN_BACKOFF_NANOS, schedule.failOver());
    assertEquals(2 * FailoverSchedule.MIN_BACKOFF_NANOS, schedule.failOver());
    assertEquals(4 * FailoverSchedule.MIN_BACKOFF_NANOS, schedule.failOver());
    for (int i = 0; i < 20; i++) {
      schedule.failOver();
    }
    assertEquals(FailoverSchedule.MAX_BACKOFF_NANOS, schedule.failOver());
  }

  @Test
  void aReplyMakesTheNextFailoverImmediateAgain() {
    FailoverSchedule schedule = new FailoverSchedule(0, 2);
    schedule.failOver();
    schedule.failOver();
    schedule.replied();
    assertEquals(0, schedule.failOver());
    assertEquals(FailoverSchedule.MIN_BACKOFF_NANOS, schedule.failOver());
  }
}
