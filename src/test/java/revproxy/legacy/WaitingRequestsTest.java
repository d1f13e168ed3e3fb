package revproxy.legacy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class WaitingRequestsTest {

  private static final long MS = 1_000_000L;

  @Test
  void refusesPastItsMost() {
    WaitingRequests<String> waiting = new WaitingRequests<>(2, Duration.ofSeconds(2));
    assertTrue(waiting.offer("a", 0));
    assertTrue(waiting.offer("b", 0));
    assertFalse(waiting.offer("c", 0));
  }

  @Test
  void handsOutTheOldestFreshRequestAndBackTheStaleOnes() {
    WaitingRequests<String> waiting = new WaitingRequests<>(10, Duration.ofSeconds(2));
    waiting.offer("old", 0);
    waiting.offer("older-than-fresh", 500 * MS);
    waiting.offer("fresh", 1500 * MS);
    List<String> stale = new ArrayList<>();
    assertEquals("fresh", waiting.nextFresh(2501 * MS, stale::add));
    assertEquals(List.of("old", "older-than-fresh"), stale);
    assertNull(waiting.nextFresh(2501 * MS, stale::add));
  }

  @Test
  void aRequestExactlyAtTheLimitIsStillFresh() {
    WaitingRequests<String> waiting = new WaitingRequests<>(10, Duration.ofSeconds(2));
    waiting.offer("a", 0);
    assertEquals("a", waiting.nextFresh(2000 * MS, stale -> {}));
  }

  @Test
  void drainHandsBackEveryRequestInOrderAndFreesRoom() {
    WaitingRequests<String> waiting = new WaitingRequests<>(2, Duration.ofSeconds(2));
    waiting.offer("a", 0);
    waiting.offer("b", 0);
    List<String> refused = new ArrayList<>();
    waiting.drain(refused::add);
    assertEquals(List.of("a", "b"), refused);
    assertTrue(waiting.offer("c", 0));
  }
}
