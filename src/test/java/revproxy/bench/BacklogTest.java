package revproxy.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BacklogTest {

  /** 1000 requests a second over 4 connections: slot n is due n ms after the start. */
  private static OpenLoopSchedule schedule() {
    OpenLoopSchedule schedule = new OpenLoopSchedule(1000, 4);
    schedule.start(0);
    return schedule;
  }

  @Test
  void slotsComeOutOldestFirstWithTheirOwnDueTimes() {
    Backlog backlog = new Backlog(schedule());
    assertTrue(backlog.isEmpty());
    backlog.add(1);
    backlog.add(5);
    backlog.add(9);
    assertEquals(3, backlog.count());
    assertEquals(1_000_000L, backlog.takeDueTime());
    assertEquals(5_000_000L, backlog.takeDueTime());
    backlog.add(13);
    assertEquals(9_000_000L, backlog.takeDueTime());
    assertEquals(13_000_000L, backlog.takeDueTime());
    assertTrue(backlog.isEmpty());
  }

  @Test
  void clearGivesUpEverySlotWithItsDueTime() {
    Backlog backlog = new Backlog(schedule());
    backlog.add(2);
    backlog.add(6);
    List<Long> due = new ArrayList<>();
    assertEquals(2, backlog.clear(due::add));
    assertEquals(List.of(2_000_000L, 6_000_000L), due);
    assertTrue(backlog.isEmpty());
  }
}
