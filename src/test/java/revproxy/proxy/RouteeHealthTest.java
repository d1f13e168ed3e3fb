package revproxy.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RouteeHealthTest {

  private static final long MS = 1_000_000L;
  private static final long SECOND = 1000 * MS;

  @Test
  void aRouteeWithAttemptsOutAndNoReplyIsOverdueOnlyPastTheLimit() {
    RouteeHealth health = new RouteeHealth();
    assertFalse(health.overdue(100 * SECOND, 25 * MS), "nothing in flight");
    health.sent(0);
    assertFalse(health.overdue(25 * MS, 25 * MS));
    assertTrue(health.overdue(26 * MS, 25 * MS));
  }

  @Test
  void everyReplyIsProgressSoABusyButAnsweringRouteeIsNeverOverdue() {
    RouteeHealth health = new RouteeHealth();
    for (long t = 0; t < SECOND; t += 10 * MS) {
      health.sent(t);
      health.sent(t);
      health.answered(t, t + 5 * MS);
      health.ended();
      assertFalse(health.overdue(t + 20 * MS, 25 * MS), "at " + t);
    }
    assertEquals(100, health.inFlight(), "one of each pair is still out");
  }

  @Test
  void aRouteeThatNeverAnsweredIsOverdueFromItsFirstAttemptWhateverItSaysUnavailable() {
    RouteeHealth health = new RouteeHealth();
    assertFalse(health.firstReplyOverdue(10 * SECOND, SECOND), "never tried");
    health.sent(0);
    for (long t = 100 * MS; t <= SECOND; t += 100 * MS) {
      // Each attempt handed back "unavailable" and replaced by a new one: no answer yet.
      health.replied(t);
      health.ended();
      health.sent(t);
      assertFalse(health.firstReplyOverdue(t, SECOND), "at " + t);
    }
    assertTrue(health.firstReplyOverdue(SECOND + MS, SECOND));
    assertFalse(health.overdue(SECOND + MS, SECOND), "by replies, it keeps making progress");

    // Ejected, then probed: the probe gets a second of its own.
    health.eject(2 * SECOND, 10 * SECOND, 60 * SECOND);
    assertTrue(health.ejected(11 * SECOND));
    assertFalse(health.ejected(12 * SECOND));
    health.sent(12 * SECOND);
    assertFalse(health.firstReplyOverdue(12 * SECOND + 500 * MS, SECOND));
    assertTrue(health.firstReplyOverdue(13 * SECOND + MS, SECOND));
  }

  @Test
  void aRouteeThatAnsweredOnceIsNoLongerJudgedByItsFirstReply() {
    RouteeHealth health = new RouteeHealth();
    health.sent(0);
    health.answered(0, 900 * MS);
    health.ended();
    health.sent(5 * SECOND);
    assertFalse(health.firstReplyOverdue(10 * SECOND, SECOND));
  }

  @Test
  void unansweredAttemptsHoldNewOnesBackOnlyWhenTheyPileUpWithoutAReply() {
    RouteeHealth health = new RouteeHealth();
    health.sent(0);
    health.answered(0, 0);
    health.ended();
    health.sent(0);
    health.sent(0);
    assertFalse(health.unavailable(10 * MS, 3, 5 * MS), "two out: not yet");
    health.sent(1 * MS);
    assertFalse(health.unavailable(4 * MS, 3, 5 * MS), "three out, but only 4 ms");
    assertTrue(health.unavailable(6 * MS, 3, 5 * MS));
    health.replied(7 * MS);
    assertFalse(health.unavailable(8 * MS, 3, 5 * MS), "it replied: progress");
  }

  @Test
  void aRouteeThatNeverAnsweredGetsOneAttemptAtATimeUntilItAnswers() {
    RouteeHealth health = new RouteeHealth();
    assertFalse(health.unavailable(0, 3, 5 * MS), "a new routee may get its first attempt");
    health.sent(0);
    assertTrue(health.unavailable(0, 3, 5 * MS), "one out, none ever answered: at once");
    health.replied(MS);
    health.ended();
    assertFalse(health.unavailable(MS, 3, 5 * MS), "handed back unavailable: the next may go");
    health.sent(MS);
    assertTrue(health.unavailable(MS, 3, 5 * MS));
    health.answered(MS, 2 * MS);
    health.ended();
    health.sent(2 * MS);
    health.sent(2 * MS);
    assertFalse(health.unavailable(2 * MS, 3, 5 * MS), "it answers: many may be out");
  }

  @Test
  void ejectionsInARowDoubleUpToTheMaximumAndThenItIsProbedOneAttemptAtATime() {
    RouteeHealth health = new RouteeHealth();
    health.eject(0, 10 * SECOND, 35 * SECOND);
    assertTrue(health.ejected(9 * SECOND));
    assertFalse(health.ejected(10 * SECOND), "10 s later");
    assertTrue(health.probing());
    assertFalse(health.unavailable(10 * SECOND, 3, 5 * MS), "a probe may go");
    health.sent(10 * SECOND);
    assertTrue(health.unavailable(10 * SECOND, 3, 5 * MS), "only one probe at a time");
    assertFalse(health.steady(10 * SECOND, 3, 5 * MS), "no group router while probing");
    // The probe is overdue too: ejected again, twice as long.
    health.eject(10 * SECOND + 30 * MS, 10 * SECOND, 35 * SECOND);
    health.ended();
    assertTrue(health.ejected(30 * SECOND));
    assertFalse(health.ejected(30 * SECOND + 30 * MS), "20 s later");
    health.eject(31 * SECOND, 10 * SECOND, 35 * SECOND);
    assertTrue(health.ejected(65 * SECOND));
    assertFalse(health.ejected(66 * SECOND), "capped at 35 s, not 40");
  }

  @Test
  void itIsWarmingUpFromItsFirstAnswerForTheWindowOnly() {
    RouteeHealth health = new RouteeHealth();
    assertFalse(health.warmingUp(0, 10 * SECOND), "never answered: not warming up, new");
    health.sent(SECOND);
    health.answered(SECOND, 2 * SECOND);
    health.ended();
    assertTrue(health.warmingUp(2 * SECOND, 10 * SECOND));
    health.sent(5 * SECOND);
    health.answered(5 * SECOND, 6 * SECOND);
    health.ended();
    assertTrue(health.warmingUp(12 * SECOND - 1, 10 * SECOND), "counted from the first answer");
    assertFalse(health.warmingUp(12 * SECOND, 10 * SECOND), "not from the latest one");
    assertFalse(health.warmingUp(2 * SECOND, 0), "a window of 0: never");
  }

  @Test
  void aShortFirstEjectionIsFollowedByTheUsualRunFromTheBaseAndAnAnsweredProbeClearsIt() {
    RouteeHealth health = new RouteeHealth();
    health.eject(0, 10 * SECOND, 60 * SECOND, SECOND);
    assertTrue(health.ejected(SECOND - 1));
    assertFalse(health.ejected(SECOND), "the short first one: 1 s");
    health.eject(SECOND, 10 * SECOND, 60 * SECOND, SECOND);
    assertTrue(health.ejected(11 * SECOND - 1));
    assertFalse(health.ejected(11 * SECOND), "then the base: 10 s");
    health.eject(11 * SECOND, 10 * SECOND, 60 * SECOND, SECOND);
    assertTrue(health.ejected(31 * SECOND - 1));
    assertFalse(health.ejected(31 * SECOND), "then doubled: 20 s");
    health.sent(31 * SECOND);
    health.answered(31 * SECOND, 31 * SECOND + MS);
    health.ended();
    health.eject(40 * SECOND, 10 * SECOND, 60 * SECOND, SECOND);
    assertTrue(health.ejected(41 * SECOND - 1));
    assertFalse(health.ejected(41 * SECOND), "a new run: short again");
    health.eject(41 * SECOND, 10 * SECOND, 60 * SECOND, 0);
    assertTrue(health.ejected(51 * SECOND - 1));
    assertFalse(health.ejected(51 * SECOND), "then 10 s");
  }

  @Test
  void aProbeAnsweredInTimeMakesItServingAndClearsTheEjectionCount() {
    RouteeHealth health = new RouteeHealth();
    health.eject(0, SECOND, 60 * SECOND);
    assertFalse(health.ejected(SECOND));
    health.sent(SECOND);
    health.answered(SECOND, SECOND + MS);
    health.ended();
    assertFalse(health.probing());
    assertTrue(health.steady(SECOND + MS, 3, 5 * MS));
    health.eject(2 * SECOND, SECOND, 60 * SECOND);
    assertFalse(health.ejected(3 * SECOND), "the first ejection's length again, not doubled");
  }

  @Test
  void timeoutsInARowEjectAndAReplyEndsTheRun() {
    RouteeHealth health = new RouteeHealth();
    assertFalse(health.timedOut(2));
    health.replied(0);
    assertFalse(health.timedOut(2));
    assertTrue(health.timedOut(2));
  }

  @Test
  void latencyIsAnAverageOfAnsweredAttemptsOnly() {
    RouteeHealth health = new RouteeHealth();
    assertEquals(-1, health.latencyNanos());
    health.answered(0, 10 * MS);
    assertEquals(10 * MS, health.latencyNanos(), 1);
    health.replied(20 * MS);
    assertEquals(10 * MS, health.latencyNanos(), 1, "an 'unavailable' has no latency");
    health.answered(20 * MS, 40 * MS);
    assertEquals(12 * MS, health.latencyNanos(), 1, "10 + 0.2 x (20 - 10)");
  }
}
