package revproxy.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.Behaviors;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import revproxy.TestConfigs;
import revproxy.ops.Metrics;
import revproxy.protocol.ErrorCode;
import revproxy.routee.Routee;

class AttemptOutcomesTest {

  static final ActorTestKit kit = ActorTestKit.create("outcomes", TestConfigs.local());

  /** 3 attempts within 5 s, each up to 5 s; the shipped outlier detection (overdue: 100 ms). */
  /**
   * One attempt may use the whole request timeout, and a routee that never answered is judged by
   * its attempt timeouts only (first-reply-after as long as the attempt timeout turns that rule
   * off; it has tests of its own in OutlierDetectorTest and SilentLegacyBackendTest).
   */
  static final ProxySettings SETTINGS =
      withoutFirstReplyLimit(TestConfigs.proxySettings(Duration.ofSeconds(5)));

  private static ProxySettings withoutFirstReplyLimit(ProxySettings base) {
    OutlierSettings o = base.outlier();
    return TestConfigs.withOutliers(
        base,
        OutlierSettings.withoutWarmUp(
            o.overdueAfter(),
            base.attemptTimeout(),
            o.maxUnanswered(),
            o.holdAfter(),
            o.ejectAfterTimeouts(),
            o.ejectionTime(),
            o.maxEjectionTime(),
            o.maxEjectedPercent()));
  }

  static final Duration QUIET = Duration.ofMillis(100);

  /** An attempt as a routee received it. */
  record Received(String routee, Routee.Hash hash) {}

  final TestProbe<Received> received = kit.createTestProbe();
  final TestProbe<Routee.Command> groupRouter = kit.createTestProbe();
  final TestProbe<RouterActor.Reply> client = kit.createTestProbe();
  final AttemptDispatcher dispatcher =
      new AttemptDispatcher(
          SETTINGS,
          kit.createTestProbe(Routee.Reply.class).getRef(),
          () -> {},
          () -> {},
          policy -> {});
  final AttemptOutcomes outcomes =
      new AttemptOutcomes(SETTINGS, dispatcher, () -> LoggerFactory.getLogger(RouterActor.class));

  @AfterAll
  static void shutdown() {
    kit.shutdownTestKit();
  }

  /** A routee that passes on what it receives, named. */
  private ActorRef<Routee.Command> routee(String name) {
    return kit.spawn(
        Behaviors.receiveMessage(
            command -> {
              received.getRef().tell(new Received(name, (Routee.Hash) command));
              return Behaviors.same();
            }),
        name);
  }

  private Policy policy(String id, List<ActorRef<Routee.Command>> routees) {
    Policy policy =
        new Policy(
            id,
            Routee.serviceKey(id),
            groupRouter.getRef(),
            null,
            new OutlierDetector(SETTINGS.outlier(), SETTINGS.attemptTimeout().toNanos()),
            Metrics.get(kit.system()).proxy().forPolicy(id));
    policy.routees.update(routees);
    return policy;
  }

  /** Sends the first attempt of a request tagged {@code tag}, as the router does. */
  private void request(Policy policy, long tag) {
    policy.pending++;
    long now = System.nanoTime();
    RouterActor.Route route =
        new RouterActor.Route(tag, "client", policy.id, "payload-" + tag, client.getRef());
    dispatcher.dispatch(
        Attempt.first(policy, route, now, now + SETTINGS.requestTimeout().toNanos()));
  }

  private static Routee.Hashed hashed(Received attempt) {
    return new Routee.Hashed(
        attempt.hash().requestId(), attempt.routee(), "hash-of-" + attempt.hash().payload());
  }

  @Test
  void aHashedAnswerServesItsRequestOnceAndALateOneIsDropped() {
    Policy policy = policy("served", List.of(routee("served-a")));
    request(policy, 7);
    Received attempt = received.receiveMessage();
    outcomes.replied(hashed(attempt));
    client.expectMessage(new RouterActor.Served(7, "served-a", "hash-of-payload-7"));
    assertEquals(0, policy.pending);
    assertTrue(dispatcher.inFlight().isEmpty());
    assertEquals("served-a", policy.outliers.health(policy.routees.routees().get(0)).workerId);

    outcomes.replied(hashed(attempt));
    client.expectNoMessage(QUIET);
  }

  @Test
  void theAnswersToABatchServeEachOfItsRequests() {
    Policy policy = policy("answers", List.of(routee("answers-a")));
    request(policy, 1);
    request(policy, 2);
    Received one = received.receiveMessage();
    Received two = received.receiveMessage();
    outcomes.replied(new Routee.Answers(List.of(hashed(two), hashed(one))));
    client.expectMessage(new RouterActor.Served(2, "answers-a", "hash-of-payload-2"));
    client.expectMessage(new RouterActor.Served(1, "answers-a", "hash-of-payload-1"));
  }

  @Test
  void anUnavailableAnswerIsRetriedOnAnotherRouteeAndAfterMaxAttemptsIsWorkerUnavailable() {
    Policy policy =
        policy("unavailable", List.of(routee("unavailable-a"), routee("unavailable-b")));
    request(policy, 3);
    Received first = received.receiveMessage();
    outcomes.replied(new Routee.Unavailable(first.hash().requestId(), first.routee(), "busy"));
    Received second = received.receiveMessage();
    assertNotEquals(first.routee(), second.routee(), "a routee not tried yet");
    assertEquals(first.hash().payload(), second.hash().payload());
    outcomes.replied(new Routee.Unavailable(second.hash().requestId(), second.routee(), "busy"));
    Received third = received.receiveMessage();
    client.expectNoMessage(QUIET);
    outcomes.replied(new Routee.Unavailable(third.hash().requestId(), third.routee(), "gone"));
    RouterActor.Rejected rejected = client.expectMessageClass(RouterActor.Rejected.class);
    assertEquals(3, rejected.tag());
    assertEquals(ErrorCode.WORKER_UNAVAILABLE, rejected.code());
    assertTrue(rejected.message().endsWith("after 3 attempt(s); last: gone"), rejected.message());
    assertEquals(0, policy.pending);
    received.expectNoMessage(QUIET);
  }

  @Test
  void aTimedOutAttemptIsRetriedAndAfterMaxAttemptsTheRequestTimesOut() {
    Policy policy = policy("timeouts", List.of(routee("timeouts-a"), routee("timeouts-b")));
    request(policy, 4);
    Received first = received.receiveMessage();
    outcomes.checkTimeouts(System.nanoTime() + Duration.ofSeconds(6).toNanos());
    Received second = received.receiveMessage();
    assertNotEquals(first.routee(), second.routee(), "a routee not tried yet");
    outcomes.checkTimeouts(System.nanoTime() + Duration.ofSeconds(6).toNanos());
    received.receiveMessage();
    client.expectNoMessage(QUIET);
    outcomes.checkTimeouts(System.nanoTime() + Duration.ofSeconds(6).toNanos());
    RouterActor.Rejected rejected = client.expectMessageClass(RouterActor.Rejected.class);
    assertEquals(4, rejected.tag());
    assertEquals(ErrorCode.TIMEOUT, rejected.code());
    assertTrue(rejected.message().endsWith("(3 attempt(s))"), rejected.message());
    assertTrue(dispatcher.inFlight().isEmpty());
  }

  @Test
  void anOverdueRouteeIsEjectedAndItsAttemptIsRetriedOnAnotherAtOnce() {
    ActorRef<Routee.Command> a = routee("overdue-a");
    Policy policy = policy("overdue", List.of(a, routee("overdue-b")));
    // Both answer once (their worker ids learnt): the next request goes through the group router.
    for (int tag = 1; tag <= 2; tag++) {
      request(policy, tag);
      outcomes.replied(hashed(received.receiveMessage()));
      client.expectMessageClass(RouterActor.Served.class);
    }
    request(policy, 3);
    Routee.Hash viaGroupRouter = groupRouter.expectMessageClass(Routee.Hash.class);
    // A second later (its attempt still has 4 s): far past 100 ms, and 10 x their latency.
    long now = System.nanoTime() + Duration.ofSeconds(1).toNanos();
    outcomes.checkTimeouts(now);
    assertTrue(policy.outliers.ejected(a, now), "the group router's pick, a, never answered");
    Received retry = received.receiveMessage();
    assertEquals("overdue-b", retry.routee());
    assertEquals(viaGroupRouter.payload(), retry.hash().payload());
    outcomes.replied(hashed(retry));
    client.expectMessage(new RouterActor.Served(3, "overdue-b", "hash-of-payload-3"));
  }
}
