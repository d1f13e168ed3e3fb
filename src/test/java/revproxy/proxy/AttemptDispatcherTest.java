package revproxy.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorRefResolver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import revproxy.TestConfigs;
import revproxy.ops.Metrics;
import revproxy.protocol.ErrorCode;
import revproxy.routee.Routee;

class AttemptDispatcherTest {

  /** A node with remoting, so that refs to routees on another node can be made (and not used). */
  static final ActorTestKit kit =
      ActorTestKit.create("dispatcher", TestConfigs.clusterNode("proxy"));

  static final ProxySettings SETTINGS = TestConfigs.withOutliers(TestConfigs.patientOutliers());
  static final Duration QUIET = Duration.ofMillis(100);

  final TestProbe<Routee.Command> groupRouter = kit.createTestProbe();
  final TestProbe<Routee.Reply> replies = kit.createTestProbe();
  final TestProbe<RouterActor.Reply> client = kit.createTestProbe();
  final AtomicInteger timeoutChecksStarted = new AtomicInteger();
  final AtomicInteger flushesAsked = new AtomicInteger();
  final List<Policy> holdingForRoutee = new ArrayList<>();
  final AttemptDispatcher dispatcher =
      new AttemptDispatcher(
          SETTINGS,
          replies.getRef(),
          timeoutChecksStarted::incrementAndGet,
          flushesAsked::incrementAndGet,
          holdingForRoutee::add);

  @AfterAll
  static void shutdown() {
    kit.shutdownTestKit();
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

  /** Every routee's worker id known, as after a reply to a direct attempt. */
  private static void known(Policy policy) {
    for (ActorRef<Routee.Command> routee : policy.routees.routees()) {
      policy.routees.replied(routee, null, routee.path().name(), true, 0, 0);
    }
  }

  /** A request of {@code policy}, arrived now and due in {@code dueIn}. */
  private Attempt request(Policy policy, long tag, Duration dueIn) {
    policy.pending++;
    long now = System.nanoTime();
    return Attempt.first(
        policy,
        new RouterActor.Route(tag, "client", policy.id, "payload-" + tag, client.getRef()),
        now,
        now + dueIn.toNanos());
  }

  /** The attempt in flight that {@code hash} carries (taken out of the in-flight table). */
  private Attempt inFlight(Routee.Hash hash) {
    Attempt attempt = dispatcher.inFlight().answered(hash.requestId());
    assertNotNull(attempt, "in flight: " + hash);
    return attempt;
  }

  @Test
  void firstAttemptsGoThroughTheGroupRouterOnceEveryWorkerIdIsKnownAndAreRecordedAsItsPicks() {
    TestProbe<Routee.Command> a = kit.createTestProbe("group-a");
    TestProbe<Routee.Command> b = kit.createTestProbe("group-b");
    Policy policy = policy("group", List.of(a.getRef(), b.getRef()));
    known(policy);
    for (int i = 0; i < 4; i++) {
      dispatcher.dispatch(request(policy, i, Duration.ofSeconds(5)));
      Routee.Hash hash = groupRouter.expectMessageClass(Routee.Hash.class);
      assertEquals("payload-" + i, hash.payload());
      assertEquals(replies.getRef(), hash.replyTo());
      Attempt sent = inFlight(hash);
      assertEquals(i % 2 == 0 ? a.getRef() : b.getRef(), sent.target(), "request " + i);
      assertNotNull(sent.groupSend());
    }
    a.expectNoMessage(QUIET);
    b.expectNoMessage(Duration.ZERO);
  }

  @Test
  void aFirstAttemptGoesDirectlyToARouteeWhoseWorkerIdIsNotKnownYet() {
    TestProbe<Routee.Command> a = kit.createTestProbe("direct-a");
    Policy policy = policy("direct", List.of(a.getRef()));
    dispatcher.dispatch(request(policy, 1, Duration.ofSeconds(5)));
    Attempt sent = inFlight(a.expectMessageClass(Routee.Hash.class));
    assertEquals(a.getRef(), sent.target());
    assertNull(sent.groupSend());
    groupRouter.expectNoMessage(QUIET);
  }

  @Test
  void aRequestOfAPolicyWithoutRouteesIsAnsweredNoWorkerForPolicyWithItsTag() {
    Policy policy = policy("empty", List.of());
    dispatcher.dispatch(request(policy, 42, Duration.ofSeconds(5)));
    RouterActor.Rejected rejected = client.expectMessageClass(RouterActor.Rejected.class);
    assertEquals(42, rejected.tag());
    assertEquals(ErrorCode.NO_WORKER_FOR_POLICY, rejected.code());
    assertEquals(0, policy.pending);
    assertTrue(dispatcher.inFlight().isEmpty());
  }

  @Test
  void aRequestOfAPolicyThatHasJustLostItsLastRouteeWaitsForOne() {
    TestProbe<Routee.Command> gone = kit.createTestProbe("grace-gone");
    Policy policy = policy("grace", List.of(gone.getRef()));
    policy.routees.update(List.of(), System.nanoTime());

    dispatcher.dispatch(request(policy, 1, Duration.ofSeconds(5)));
    dispatcher.dispatch(request(policy, 2, Duration.ofSeconds(5)));
    client.expectNoMessage(QUIET);
    assertEquals(
        List.of(1L, 2L), policy.awaitingRoutee.stream().map(a -> a.route().tag()).toList());
    assertEquals(List.of(policy), holdingForRoutee, "the router hears once, of the first");
    assertEquals(2, policy.pending);
    assertTrue(dispatcher.inFlight().isEmpty());
    gone.expectNoMessage(Duration.ZERO);
  }

  @Test
  void aRetryWhoseDeadlineComesBeforeTheGraceEndsIsAnsweredAtOnce() {
    TestProbe<Routee.Command> gone = kit.createTestProbe("due-gone");
    Policy policy = policy("due", List.of(gone.getRef()));
    policy.routees.update(List.of(), System.nanoTime());
    Duration dueIn = SETTINGS.noWorkerGrace().dividedBy(4);

    dispatcher.dispatch(request(policy, 9, dueIn));
    RouterActor.Rejected rejected = client.expectMessageClass(RouterActor.Rejected.class);
    assertEquals(9, rejected.tag());
    assertEquals(ErrorCode.NO_WORKER_FOR_POLICY, rejected.code());
    assertTrue(policy.awaitingRoutee.isEmpty());
    assertEquals(List.of(), holdingForRoutee);
  }

  @Test
  void aRequestOfAPolicyThatLostItsLastRouteeLongerAgoThanTheGraceIsAnsweredAtOnce() {
    TestProbe<Routee.Command> gone = kit.createTestProbe("late-gone");
    Policy policy = policy("late", List.of(gone.getRef()));
    long graceAgo = System.nanoTime() - SETTINGS.noWorkerGrace().toNanos();
    policy.routees.update(List.of(), graceAgo);

    dispatcher.dispatch(request(policy, 7, Duration.ofSeconds(5)));
    RouterActor.Rejected rejected = client.expectMessageClass(RouterActor.Rejected.class);
    assertEquals(7, rejected.tag());
    assertEquals(ErrorCode.NO_WORKER_FOR_POLICY, rejected.code());
    assertTrue(policy.awaitingRoutee.isEmpty());
    assertEquals(List.of(), holdingForRoutee);
  }

  @Test
  void timeoutChecksStartWhenAttemptsAreOutAgainAndAnAttemptEndsWithItsRequestButGetsAtLeast1Ms() {
    TestProbe<Routee.Command> a = kit.createTestProbe("expiry-a");
    Policy policy = policy("expiry", List.of(a.getRef()));
    known(policy);
    Attempt cutShort = request(policy, 1, Duration.ofMillis(500));
    dispatcher.dispatch(cutShort);
    dispatcher.dispatch(request(policy, 2, Duration.ofSeconds(5)));
    assertEquals(1, timeoutChecksStarted.get(), "once for both");
    long deadline = cutShort.deadlineNanos();
    assertEquals(List.of(), dispatcher.inFlight().expire(deadline - 1));
    assertEquals(1, dispatcher.inFlight().expire(deadline).size(), "at its request's deadline");
    dispatcher.inFlight().expire(Long.MAX_VALUE / 2);
    assertTrue(dispatcher.inFlight().isEmpty());

    long before = System.nanoTime();
    dispatcher.dispatch(request(policy, 3, Duration.ofSeconds(-1)));
    long after = System.nanoTime();
    assertEquals(2, timeoutChecksStarted.get(), "attempts are out again");
    long ms = Duration.ofMillis(1).toNanos();
    assertEquals(List.of(), dispatcher.inFlight().expire(before + ms - 1));
    assertEquals(1, dispatcher.inFlight().expire(after + ms).size(), "1 ms past its deadline");
  }

  @Test
  void withARouteeOnAnotherNodeFirstAttemptsWaitForTheFlushAndGoInRowsThroughTheGroupRouter() {
    ActorRefResolver resolver = ActorRefResolver.get(kit.system());
    ActorRef<Routee.Command> w1 = resolver.resolveActorRef("akka://elsewhere@127.0.0.1:1/user/w1");
    ActorRef<Routee.Command> w2 = resolver.resolveActorRef("akka://elsewhere@127.0.0.1:1/user/w2");
    assertTrue(w1.path().address().hasGlobalScope());
    Policy policy = policy("batched", List.of(w2, w1));
    known(policy);
    for (int i = 0; i < 5; i++) {
      dispatcher.dispatch(request(policy, i, Duration.ofSeconds(5)));
    }
    groupRouter.expectNoMessage(QUIET);
    assertEquals(1, flushesAsked.get(), "one flush for the run of requests");
    assertTrue(dispatcher.inFlight().isEmpty(), "recorded as sent when sent");

    dispatcher.flush();
    // Two routees: rows (0 1) (2 3) as one message per routee, then 4 alone.
    List<Routee.Hash> first = groupRouter.expectMessageClass(Routee.HashBatch.class).hashes();
    List<Routee.Hash> second = groupRouter.expectMessageClass(Routee.HashBatch.class).hashes();
    Routee.Hash last = groupRouter.expectMessageClass(Routee.Hash.class);
    assertEquals(
        List.of("payload-0", "payload-2", "payload-1", "payload-3", "payload-4"),
        List.of(
            first.get(0).payload(),
            first.get(1).payload(),
            second.get(0).payload(),
            second.get(1).payload(),
            last.payload()));
    for (Routee.Hash hash : first) {
      assertEquals(w1, inFlight(hash).target(), hash.payload());
    }
    for (Routee.Hash hash : second) {
      assertEquals(w2, inFlight(hash).target(), hash.payload());
    }
    assertEquals(w1, inFlight(last).target());

    dispatcher.dispatch(request(policy, 5, Duration.ofSeconds(5)));
    assertEquals(2, flushesAsked.get(), "the next run asks again");
  }
}
