package revproxy.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.Behaviors;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import revproxy.TestConfigs;
import revproxy.routee.Routee;

class OutlierDetectorTest {

  /** Only for routee refs: the detector itself needs no actor system. */
  static final ActorTestKit kit = ActorTestKit.create("outliers", TestConfigs.local());

  static final long MS = 1_000_000L;
  static final long SECOND = 1000 * MS;

  @AfterAll
  static void shutdown() {
    kit.shutdownTestKit();
  }

  /**
   * Overdue after 25 ms, held back with 3 unanswered for 5 ms, ejected after {@code
   * ejectAfterTimeouts} timeouts in a row, at most {@code maxEjectedPercent}; attempts time out
   * after 2 s.
   */
  private static OutlierDetector outliers(int ejectAfterTimeouts, int maxEjectedPercent) {
    return new OutlierDetector(
        OutlierSettings.withoutWarmUp(
            Duration.ofMillis(25),
            Duration.ofSeconds(1),
            3,
            Duration.ofMillis(5),
            ejectAfterTimeouts,
            Duration.ofSeconds(10),
            Duration.ofSeconds(60),
            maxEjectedPercent),
        Duration.ofSeconds(2).toNanos());
  }

  /**
   * As {@link #outliers}, at most 100% ejected, and with a warm-up: ejected for 1 s instead of 10 s
   * within 10 s of the first answer.
   */
  private static OutlierDetector warmingOutliers() {
    return warmingOutliers(Duration.ofSeconds(1));
  }

  /** As {@link #warmingOutliers()}, with a warm-up ejection of {@code warmUpEjection}. */
  private static OutlierDetector warmingOutliers(Duration warmUpEjection) {
    return new OutlierDetector(
        new OutlierSettings(
            Duration.ofMillis(25),
            Duration.ofSeconds(1),
            3,
            Duration.ofMillis(5),
            2,
            Duration.ofSeconds(10),
            Duration.ofSeconds(60),
            100,
            Duration.ofSeconds(10),
            warmUpEjection),
        Duration.ofSeconds(2).toNanos());
  }

  private static ActorRef<Routee.Command> routee(String name) {
    return kit.spawn(Behaviors.ignore(), name);
  }

  /** One attempt sent to {@code routee} at {@code sentNanos} and answered after {@code latency}. */
  private static void answeredOnce(
      OutlierDetector outliers, ActorRef<Routee.Command> routee, long sentNanos, long latency) {
    outliers.sent(routee, sentNanos);
    outliers.replied(routee, true, sentNanos, sentNanos + latency);
    outliers.ended(routee);
  }

  @Test
  void atMostMaxEjectedPercentOfTheRouteesAreEjectedAtOnce() {
    ActorRef<Routee.Command> a = routee("cap-a");
    ActorRef<Routee.Command> b = routee("cap-b");
    ActorRef<Routee.Command> c = routee("cap-c");
    ActorRef<Routee.Command> d = routee("cap-d");
    OutlierDetector outliers = outliers(1, 50);
    outliers.listed(List.of(a, b, c, d));
    // Each has served: one that never answered is no capacity and is not capped.
    for (ActorRef<Routee.Command> r : List.of(a, b, c, d)) {
      outliers.sent(r, 0);
      outliers.replied(r, true, 0, 0);
    }
    assertTrue(outliers.eject(a, 0));
    assertTrue(outliers.eject(b, 0));
    assertFalse(outliers.eject(c, 0), "half of 4 are ejected already");
    assertFalse(outliers.ejected(c, 0));
  }

  @Test
  void aRouteeEjectedWithinWarmUpOfItsFirstAnswerIsEjectedForTheWarmUpEjectionTime() {
    ActorRef<Routee.Command> young = routee("warm-young");
    ActorRef<Routee.Command> old = routee("warm-old");
    ActorRef<Routee.Command> other = routee("warm-other");
    OutlierDetector outliers = warmingOutliers();
    outliers.listed(List.of(young, old, other));
    answeredOnce(outliers, old, 0, MS);
    answeredOnce(outliers, other, 0, MS);
    answeredOnce(outliers, young, 20 * SECOND, MS);
    long now = 25 * SECOND;
    assertEquals(0, outliers.ejectedForMillis(young, now), "not ejected");
    assertTrue(outliers.eject(young, now), "5 s after its first answer");
    assertEquals(1000, outliers.ejectedForMillis(young, now), "what the log line says");
    assertTrue(outliers.ejected(young, now + SECOND - 1));
    assertFalse(outliers.ejected(young, now + SECOND), "warming up: 1 s, not 10 s");
    assertTrue(outliers.eject(old, now), "25 s after its first answer");
    assertEquals(10_000, outliers.ejectedForMillis(old, now));
    assertTrue(outliers.ejected(old, now + 10 * SECOND - 1), "warm no longer: the full 10 s");
    assertFalse(outliers.ejected(old, now + 10 * SECOND));
    // The young one's probe fails too, still within its warm-up: the run goes on as without the
    // warm-up, 10 s.
    assertTrue(outliers.eject(young, now + SECOND + 30 * MS));
    assertTrue(outliers.ejected(young, now + 11 * SECOND + 30 * MS - 1));
    assertFalse(outliers.ejected(young, now + 11 * SECOND + 30 * MS), "10 s, not 2 s");
  }

  @Test
  void aRunOfEjectionsThatBeganWithinTheWarmUpGoesOnFromTheEjectionTimeAfterIt() {
    ActorRef<Routee.Command> young = routee("edge-young");
    ActorRef<Routee.Command> other = routee("edge-other");
    OutlierDetector outliers = warmingOutliers();
    outliers.listed(List.of(young, other));
    answeredOnce(outliers, other, 0, MS);
    answeredOnce(outliers, young, 0, MS);
    long e = 9500 * MS; // within the 10 s warm-up: 1 s
    assertTrue(outliers.eject(young, e));
    assertTrue(outliers.ejected(young, e + SECOND - 1));
    assertFalse(outliers.ejected(young, e + SECOND));
    long second = e + SECOND + 100 * MS; // its probe overdue, past the warm-up now: 10 s
    assertTrue(outliers.eject(young, second));
    assertTrue(outliers.ejected(young, second + 10 * SECOND - 1));
    assertFalse(outliers.ejected(young, second + 10 * SECOND), "10 s, not 20 s");
    long third = second + 10 * SECOND + 100 * MS;
    assertTrue(outliers.eject(young, third));
    assertTrue(outliers.ejected(young, third + 20 * SECOND - 1), "then doubled: 20 s");
    assertFalse(outliers.ejected(young, third + 20 * SECOND));
  }

  @Test
  void aWarmUpEjectionAsLongAsTheEjectionTimeIsNoWarmUpEjectionAndTheRunDoublesAsUsual() {
    ActorRef<Routee.Command> young = routee("equal-young");
    ActorRef<Routee.Command> other = routee("equal-other");
    OutlierDetector outliers = warmingOutliers(Duration.ofSeconds(10));
    outliers.listed(List.of(young, other));
    answeredOnce(outliers, other, 0, MS);
    answeredOnce(outliers, young, 0, MS);
    assertTrue(outliers.eject(young, SECOND));
    assertFalse(outliers.ejected(young, 11 * SECOND), "10 s");
    assertTrue(outliers.eject(young, 11 * SECOND));
    assertTrue(outliers.ejected(young, 31 * SECOND - 1), "then 20 s, not 10 s again");
    assertFalse(outliers.ejected(young, 31 * SECOND));
  }

  @Test
  void withoutAWarmUpEveryFirstEjectionLastsTheEjectionTime() {
    ActorRef<Routee.Command> young = routee("cold-young");
    ActorRef<Routee.Command> other = routee("cold-other");
    OutlierDetector outliers = outliers(2, 100);
    outliers.listed(List.of(young, other));
    answeredOnce(outliers, young, 0, MS);
    assertTrue(outliers.eject(young, 2 * MS));
    assertTrue(outliers.ejected(young, 10 * SECOND + 2 * MS - 1), "10 s, answered 1 ms before");
    assertFalse(outliers.ejected(young, 10 * SECOND + 2 * MS));
  }

  @Test
  void aReplyEndsATimeoutRun() {
    ActorRef<Routee.Command> r = routee("run-1");
    ActorRef<Routee.Command> other = routee("run-2");
    OutlierDetector outliers = outliers(2, 100);
    outliers.listed(List.of(r, other));
    assertFalse(outliers.timedOut(r, 0));
    outliers.replied(r, true, 0, 0);
    assertFalse(outliers.timedOut(r, 0));
    assertTrue(outliers.timedOut(r, 0));
  }

  @Test
  void onlyARouteeThatHasAnsweredBeforeIsJudgedOverdueAndAnEjectedOneIsNotListedAgain() {
    ActorRef<Routee.Command> answering = routee("overdue-a");
    ActorRef<Routee.Command> cold = routee("overdue-b");
    OutlierDetector outliers = outliers(2, 100);
    outliers.listed(List.of(answering, cold));
    answeredOnce(outliers, answering, 0, MS);
    outliers.sent(answering, 10 * MS);
    outliers.sent(cold, 10 * MS);
    assertEquals(List.of(), outliers.overdue(35 * MS), "25 ms without a reply: not past it");
    assertEquals(List.of(answering), outliers.overdue(36 * MS), "the cold one is not judged");
    assertTrue(outliers.eject(answering, 36 * MS));
    assertEquals(List.of(), outliers.overdue(37 * MS));
  }

  @Test
  void theOverdueLimitIsTenTimesTheMedianLatencyBetweenOverdueAfterAndTheAttemptTimeout() {
    ActorRef<Routee.Command> a = routee("limit-a");
    ActorRef<Routee.Command> b = routee("limit-b");
    ActorRef<Routee.Command> c = routee("limit-c");

    OutlierDetector none = outliers(2, 100);
    none.listed(List.of(a, b, c));
    assertEquals(25 * MS, none.overdueNanos(), "no latency yet: overdue-after");

    OutlierDetector slow = outliers(2, 100);
    slow.listed(List.of(a, b, c));
    answeredOnce(slow, a, 0, 10 * MS);
    answeredOnce(slow, b, 0, 20 * MS);
    answeredOnce(slow, c, 0, 40 * MS);
    assertEquals(200 * MS, slow.overdueNanos(), "10 x the median, 20 ms");
    assertEquals(60 * MS, slow.holdNanos(), "3 x the median");

    OutlierDetector verySlow = outliers(2, 100);
    verySlow.listed(List.of(a));
    answeredOnce(verySlow, a, 0, 500 * MS);
    assertEquals(2 * SECOND, verySlow.overdueNanos(), "never past the attempt timeout");
  }

  @Test
  void theMedianLatencyIsReusedForMedianReuseUsesThenComputedAgain() {
    ActorRef<Routee.Command> a = routee("reuse-a");
    OutlierDetector outliers = outliers(2, 100);
    outliers.listed(List.of(a));
    answeredOnce(outliers, a, 0, 10 * MS);
    assertEquals(100 * MS, outliers.overdueNanos());
    // Now about 208 ms on average (10 + 0.2 x (1000 - 10)): 10 x that is past the 2 s ceiling.
    answeredOnce(outliers, a, 0, SECOND);
    for (int use = 2; use <= OutlierDetector.MEDIAN_REUSE; use++) {
      assertEquals(100 * MS, outliers.overdueNanos(), "use " + use);
    }
    assertEquals(2 * SECOND, outliers.overdueNanos());
  }

  @Test
  void aRouteeWithMaxUnansweredAttemptsOutIsHeldBackAfterThreeTimesTheMedianLatency() {
    ActorRef<Routee.Command> a = routee("hold-a");
    ActorRef<Routee.Command> b = routee("hold-b");
    OutlierDetector outliers = outliers(2, 100);
    outliers.listed(List.of(a, b));
    answeredOnce(outliers, a, 0, 10 * MS);
    answeredOnce(outliers, b, 0, 10 * MS);
    for (int i = 0; i < 3; i++) {
      outliers.sent(a, 100 * MS);
    }
    long hold = outliers.holdNanos();
    assertFalse(outliers.unavailable(a, 120 * MS, hold), "past hold-after, not past 30 ms");
    assertFalse(outliers.unavailable(a, 130 * MS, hold));
    assertTrue(outliers.unavailable(a, 131 * MS, hold));
    assertFalse(outliers.unavailable(b, 131 * MS, hold), "nothing out");
    assertFalse(outliers.allSteadyAndKnown(131 * MS), "a is held back, and no worker id known");
  }

  @Test
  void aRouteeThatLeftKeepsItsRecordUntilMaxDepartedOthersLeftAfterIt() {
    ActorRef<Routee.Command> flapping = routee("departed-x");
    ActorRef<Routee.Command> steady = routee("departed-y");
    List<ActorRef<Routee.Command>> others = new ArrayList<>();
    for (int i = 0; i < OutlierDetector.MAX_DEPARTED; i++) {
      others.add(routee("departed-" + i));
    }
    assertTrue(
        timedOutAgainAfterOthersLeft(flapping, steady, others.subList(0, others.size() - 1)),
        "kept: the second timeout in a row ejects");
    assertFalse(
        timedOutAgainAfterOthersLeft(flapping, steady, others),
        "forgotten: a clean record, the first timeout in a row");
  }

  /**
   * {@code flapping} times out once and leaves, then {@code others} come and leave, then it comes
   * back and times out again: returns whether that ejects it (two timeouts in a row).
   */
  private static boolean timedOutAgainAfterOthersLeft(
      ActorRef<Routee.Command> flapping,
      ActorRef<Routee.Command> steady,
      List<ActorRef<Routee.Command>> others) {
    OutlierDetector outliers = outliers(2, 100);
    outliers.listed(List.of(flapping, steady));
    assertFalse(outliers.timedOut(flapping, 0));
    List<ActorRef<Routee.Command>> crowd = new ArrayList<>(others);
    crowd.add(steady);
    outliers.listed(crowd);
    outliers.listed(List.of(steady));
    outliers.listed(List.of(flapping, steady));
    return outliers.timedOut(flapping, 0);
  }
}
