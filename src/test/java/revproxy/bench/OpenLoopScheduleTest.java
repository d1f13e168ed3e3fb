package revproxy.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The open-loop schedule: due times fixed by the rate alone, dealt round robin, caught up at once.
 */
class OpenLoopScheduleTest {

  private static final long START = 5_000_000_000L;
  private static final long MILLI = 1_000_000L;

  @Test
  void slotNIsDueNIntervalsAfterTheStart() {
    OpenLoopSchedule schedule = new OpenLoopSchedule(1000, 4);
    schedule.start(START);
    assertEquals(START, schedule.dueTime(0));
    assertEquals(START + MILLI, schedule.dueTime(1));
    assertEquals(START + 250 * MILLI, schedule.dueTime(250));
    assertEquals(START + 3_600_000 * MILLI, schedule.dueTime(3_600_000));
  }

  @Test
  void anIntervalOfNoWholeNanosecondsDoesNotDrift() {
    // 1e9 / 3000 ns = 333,333.33... ns: adding up whole intervals would be 1 ms off after 1000 s.
    OpenLoopSchedule schedule = new OpenLoopSchedule(3000, 1);
    schedule.start(START);
    assertEquals(1_000_000_000_000L, schedule.dueTime(3_000_000) - START);
    assertEquals(333_333, schedule.dueTime(1) - START);
    assertEquals(666_666, schedule.dueTime(2) - START);
    assertEquals(1_000_000, schedule.dueTime(3) - START);
  }

  @Test
  void slotsGoToTheConnectionsRoundRobin() {
    OpenLoopSchedule schedule = new OpenLoopSchedule(1000, 3);
    List<Integer> connections = new ArrayList<>();
    for (long slot = 0; slot < 7; slot++) {
      connections.add(schedule.connectionOf(slot));
    }
    assertEquals(List.of(0, 1, 2, 0, 1, 2, 0), connections);
    assertEquals(5, schedule.nextOfConnection(2));
    assertEquals(schedule.connectionOf(2), schedule.connectionOf(schedule.nextOfConnection(2)));
  }

  @Test
  void aLoopThatWakesLateTakesEveryOverdueSlotAtOnceEachKeepingItsDueTime() {
    OpenLoopSchedule schedule = new OpenLoopSchedule(1000, 4);
    schedule.start(START);
    assertEquals(START, schedule.nextDue());
    long now = START + 10 * MILLI + MILLI / 2;
    List<Long> taken = new ArrayList<>();
    List<Long> due = new ArrayList<>();
    while (schedule.nextDue() <= now) {
      long slot = schedule.take();
      taken.add(slot);
      due.add(schedule.dueTime(slot) - START);
    }
    assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L), taken);
    assertEquals(
        List.of(
            0L,
            MILLI,
            2 * MILLI,
            3 * MILLI,
            4 * MILLI,
            5 * MILLI,
            6 * MILLI,
            7 * MILLI,
            8 * MILLI,
            9 * MILLI,
            10 * MILLI),
        due);
    // The next slot is still due on the rate's time, not pushed back by the late wakeup.
    assertEquals(START + 11 * MILLI, schedule.nextDue());
    assertEquals(11, schedule.take());
  }

  @Test
  void aScheduleNeedsARateAndAConnection() {
    assertThrows(IllegalArgumentException.class, () -> new OpenLoopSchedule(0, 4));
    assertThrows(IllegalArgumentException.class, () -> new OpenLoopSchedule(Double.NaN, 4));
    assertThrows(IllegalArgumentException.class, () -> new OpenLoopSchedule(1000, 0));
  }
}
