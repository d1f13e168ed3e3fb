package revproxy.legacy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class AdaptivePoolTest {

  private static final long MS = 1_000_000L;
  private static final Duration PROBE_BACKOFF = Duration.ofSeconds(60);
  private static final Duration IDLE_CLOSE_AFTER = Duration.ofSeconds(30);

  private static AdaptivePool<String> adaptive(int max) {
    return new AdaptivePool<>(max, true, PROBE_BACKOFF, IDLE_CLOSE_AFTER);
  }

  @Test
  void aFixedPoolKeepsItsSizeAndNeverProbes() {
    AdaptivePool<String> pool = new AdaptivePool<>(4, false, PROBE_BACKOFF, IDLE_CLOSE_AFTER);
    assertEquals(4, pool.size());
    pool.maybeGrow(true, 0, () -> "probe");
    assertEquals(4, pool.size());
    assertFalse(pool.sending("probe"));
  }

  @Test
  void anAdaptivePoolStartsWithOneAndGrowsByOneProbeAtATime() {
    AdaptivePool<String> pool = adaptive(8);
    assertEquals(1, pool.size());
    pool.maybeGrow(true, 0, () -> "c2");
    assertEquals(2, pool.size());
    pool.maybeGrow(true, 0, () -> "c3");
    assertEquals(2, pool.size(), "no growth while the probe has not answered");
    assertTrue(pool.sending("c2"), "the probe's first request is the probe");
    assertFalse(pool.sending("c2"), "only its first");
  }

  @Test
  void growsOnlyWithAConnectionUpAndBelowItsMost() {
    AdaptivePool<String> pool = adaptive(2);
    pool.maybeGrow(false, 0, () -> "c2");
    assertEquals(1, pool.size());
    pool.maybeGrow(true, 0, () -> "c2");
    pool.sending("c2");
    assertTrue(pool.proven("c2"));
    pool.maybeGrow(true, 0, () -> "c3");
    assertEquals(2, pool.size());
  }

  @Test
  void keepsItsSizeWhenNoConnectionCouldBeOpened() {
    AdaptivePool<String> pool = adaptive(8);
    pool.maybeGrow(true, 0, () -> null);
    assertEquals(1, pool.size());
    pool.maybeGrow(true, 0, () -> "c2");
    assertEquals(2, pool.size(), "no probe was left out, so it may grow at once");
  }

  @Test
  void anAnsweredProbeLetsThePoolGrowAgain() {
    AdaptivePool<String> pool = adaptive(8);
    pool.maybeGrow(true, 0, () -> "c2");
    assertFalse(pool.proven("c2"), "not before its request was sent");
    pool.sending("c2");
    assertFalse(pool.proven("c1"));
    assertTrue(pool.proven("c2"));
    assertFalse(pool.proven("c2"), "proven once");
    pool.maybeGrow(true, 0, () -> "c3");
    assertEquals(3, pool.size());
  }

  @Test
  void aProbeConnectedButNotAnsweredShrinksThePoolAndHoldsGrowthForTheBackoff() {
    AdaptivePool<String> pool = adaptive(8);
    pool.maybeGrow(true, 0, () -> "c2");
    pool.sending("c2");
    assertTrue(pool.ended("c2", true, 100 * MS));
    assertEquals(1, pool.size());
    pool.maybeGrow(true, 100 * MS + PROBE_BACKOFF.toNanos() - 1, () -> "c3");
    assertEquals(1, pool.size(), "not within probe-backoff");
    pool.maybeGrow(true, 100 * MS + PROBE_BACKOFF.toNanos(), () -> "c3");
    assertEquals(2, pool.size());
  }

  @Test
  void aProbeThatNeverConnectedLeavesTheSizeAndAllowsANewProbe() {
    AdaptivePool<String> pool = adaptive(8);
    pool.maybeGrow(true, 0, () -> "c2");
    assertFalse(pool.ended("c2", false, 0));
    assertEquals(2, pool.size());
    assertFalse(pool.ended("c1", true, 0), "not the probe");
  }

  @Test
  void idleConnectionsCloseAfterIdleCloseAfterDownToOne() {
    AdaptivePool<String> pool = adaptive(8);
    pool.maybeGrow(true, 0, () -> "c2");
    pool.sending("c2");
    pool.proven("c2");
    pool.maybeGrow(true, 0, () -> "c3");
    pool.sending("c3");
    pool.idle("c1", 0);
    pool.idle("c2", 0);
    pool.idle("c3", 10 * MS);
    long idleFor = IDLE_CLOSE_AFTER.toNanos();
    assertEquals(List.of(), pool.idleTooLong(List.of("c1", "c2", "c3"), idleFor));
    assertEquals(
        List.of("c1", "c2"), pool.idleTooLong(List.of("c1", "c2", "c3"), idleFor + 20 * MS));
    assertEquals(1, pool.size());
  }

  @Test
  void aConnectionThatGotARequestIsNoLongerIdle() {
    AdaptivePool<String> pool = adaptive(8);
    pool.maybeGrow(true, 0, () -> "c2");
    pool.idle("c1", 0);
    pool.idle("c2", 0);
    pool.sending("c1");
    assertEquals(
        List.of("c2"), pool.idleTooLong(List.of("c1", "c2"), IDLE_CLOSE_AFTER.toNanos() + 1));
  }
}
