package revproxy.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.receptionist.Receptionist;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import revproxy.Routees;
import revproxy.TestConfigs;
import revproxy.protocol.ErrorCode;
import revproxy.protocol.PayloadHash;
import revproxy.routee.Routee;
import revproxy.worker.HashWorker;

class RouterActorTest {

  static final ActorTestKit testKit = ActorTestKit.create(TestConfigs.local());

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static ActorRef<RouterActor.Command> router() {
    return testKit.spawn(RouterActor.create(TestConfigs.proxySettings(Duration.ofSeconds(3))));
  }

  /** Routes one request and returns the reply. */
  private static RouterActor.Reply route(
      ActorRef<RouterActor.Command> router, String policy, String payload) {
    TestProbe<RouterActor.Reply> probe = testKit.createTestProbe();
    router.tell(new RouterActor.Route("client", policy, payload, probe.getRef()));
    return probe.receiveMessage(Duration.ofSeconds(5));
  }

  private static RoutingTable routing(ActorRef<RouterActor.Command> router) {
    TestProbe<RoutingTable> probe = testKit.createTestProbe();
    router.tell(new RouterActor.GetRouting(probe.getRef()));
    return probe.receiveMessage();
  }

  /** Waits until {@code router} (tracking one policy) has seen that policy's routees leave. */
  private static void awaitNoRoutees(ActorRef<RouterActor.Command> router) {
    testKit
        .createTestProbe()
        .awaitAssert(
            () -> {
              assertEquals(List.of(), routing(router).policies().get(0).routees(), "saw it leave");
              return null;
            });
  }

  /** Routes {@code n} requests one after the other; checks each hash; returns who served them. */
  private static List<String> servedBy(ActorRef<RouterActor.Command> router, String policy, int n) {
    List<String> workers = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String payload = policy + "-payload-" + i;
      RouterActor.Served served = (RouterActor.Served) route(router, policy, payload);
      assertEquals(PayloadHash.sha1Hex(payload), served.payloadHash());
      workers.add(served.workerId());
    }
    return workers;
  }

  private static void assertStrictRotation(List<String> workers, int period) {
    for (int i = 0; i + period < workers.size(); i++) {
      assertEquals(
          workers.get(i), workers.get(i + period), "rotation broken at " + i + ": " + workers);
    }
    assertEquals(
        period, new TreeSet<>(workers.subList(0, period)).size(), "not all used: " + workers);
  }

  @Test
  void roundRobinAlternatesOverTwoWorkers() {
    testKit.spawn(HashWorker.create("a", "rr2"));
    testKit.spawn(HashWorker.create("b", "rr2"));
    Routees.await(testKit, "rr2", 2);
    List<String> workers = servedBy(router(), "rr2", 8);
    assertStrictRotation(workers, 2);
    assertEquals(Set.of("a", "b"), new TreeSet<>(workers));
  }

  @Test
  void roundRobinCyclesThroughThreeWorkers() {
    testKit.spawn(HashWorker.create("a", "rr3"));
    testKit.spawn(HashWorker.create("b", "rr3"));
    testKit.spawn(HashWorker.create("c", "rr3"));
    Routees.await(testKit, "rr3", 3);
    List<String> workers = servedBy(router(), "rr3", 9);
    assertStrictRotation(workers, 3);
    assertEquals(Set.of("a", "b", "c"), new TreeSet<>(workers));
  }

  @Test
  void policiesAreIsolatedFromEachOther() {
    testKit.spawn(HashWorker.create("x1", "iso-x"));
    testKit.spawn(HashWorker.create("x2", "iso-x"));
    testKit.spawn(HashWorker.create("y1", "iso-y"));
    Routees.await(testKit, "iso-x", 2);
    Routees.await(testKit, "iso-y", 1);
    ActorRef<RouterActor.Command> router = router();
    List<String> xWorkers = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      // Traffic to another policy in between must not disturb this policy's rotation.
      xWorkers.addAll(servedBy(router, "iso-x", 1));
      assertEquals(List.of("y1", "y1"), servedBy(router, "iso-y", 2));
    }
    assertStrictRotation(xWorkers, 2);
    assertEquals(Set.of("x1", "x2"), new TreeSet<>(xWorkers));
  }

  @Test
  void unknownPolicyIsRejectedAtOnceNotTimedOut() {
    ActorRef<RouterActor.Command> router =
        testKit.spawn(RouterActor.create(TestConfigs.proxySettings(Duration.ofSeconds(30))));
    TestProbe<RouterActor.Reply> probe = testKit.createTestProbe();
    router.tell(new RouterActor.Route("client", "nobody-serves-this", "x", probe.getRef()));
    RouterActor.Rejected rejected =
        probe.expectMessageClass(RouterActor.Rejected.class, Duration.ofSeconds(2));
    assertEquals(ErrorCode.NO_WORKER_FOR_POLICY, rejected.code());
    assertEquals("no worker serves policy \"nobody-serves-this\"", rejected.message());
    // A second request for the now-known empty policy is rejected the same way.
    router.tell(new RouterActor.Route("client", "nobody-serves-this", "y", probe.getRef()));
    assertEquals(
        ErrorCode.NO_WORKER_FOR_POLICY,
        probe.expectMessageClass(RouterActor.Rejected.class, Duration.ofSeconds(2)).code());
  }

  @Test
  void workerAddedAtRuntimeJoinsTheRotation() {
    testKit.spawn(HashWorker.create("first", "grow"));
    Routees.await(testKit, "grow", 1);
    ActorRef<RouterActor.Command> router = router();
    assertEquals(List.of("first", "first"), servedBy(router, "grow", 2));

    testKit.spawn(HashWorker.create("second", "grow"));
    Routees.await(testKit, "grow", 2);
    TestProbe<Void> waiter = testKit.createTestProbe();
    waiter.awaitAssert(
        () -> {
          assertEquals(Set.of("first", "second"), new TreeSet<>(servedBy(router, "grow", 2)));
          return null;
        });
    assertStrictRotation(servedBy(router, "grow", 6), 2);
  }

  @Test
  void workerRemovedAtRuntimeLeavesTheRotationAndTheLastOneLeavingRejects() {
    ActorRef<Routee.Command> stays = testKit.spawn(HashWorker.create("stays", "shrink"));
    ActorRef<Routee.Command> goes = testKit.spawn(HashWorker.create("goes", "shrink"));
    Routees.await(testKit, "shrink", 2);
    ActorRef<RouterActor.Command> router = router();
    assertEquals(Set.of("stays", "goes"), new TreeSet<>(servedBy(router, "shrink", 2)));

    testKit.stop(goes);
    Routees.await(testKit, "shrink", 1);
    TestProbe<Void> waiter = testKit.createTestProbe();
    waiter.awaitAssert(
        () -> {
          assertEquals(List.of("stays", "stays", "stays"), servedBy(router, "shrink", 3));
          return null;
        });

    testKit.stop(stays);
    Routees.await(testKit, "shrink", 0);
    waiter.awaitAssert(
        () -> {
          RouterActor.Reply reply = route(router, "shrink", "late");
          assertEquals(
              new RouterActor.Rejected(
                  ErrorCode.NO_WORKER_FOR_POLICY, "no worker serves policy \"shrink\""),
              reply);
          return null;
        });
  }

  @Test
  void aRequestInTheGapBetweenTheLastWorkerLeavingAndItsReplacementIsServedByTheReplacement() {
    ActorRef<Routee.Command> old = testKit.spawn(HashWorker.create("old", "handover"));
    Routees.await(testKit, "handover", 1);
    ActorRef<RouterActor.Command> router = router();
    assertEquals(List.of("old"), servedBy(router, "handover", 1));

    testKit.stop(old);
    Routees.await(testKit, "handover", 0);
    awaitNoRoutees(router);
    TestProbe<RouterActor.Reply> client = testKit.createTestProbe();
    router.tell(new RouterActor.Route("client", "handover", "in the gap", client.getRef()));
    client.expectNoMessage(Duration.ofMillis(300));
    testKit.spawn(HashWorker.create("new", "handover"));

    assertEquals(
        new RouterActor.Served("new", PayloadHash.sha1Hex("in the gap")), client.receiveMessage());
  }

  @Test
  void aPolicyWhoseLastWorkerLeftAnswersNoWorkerForPolicyOnceItsGraceIsOver() {
    assertTrue(TestConfigs.noWorkerGrace().toMillis() >= 1000, "a grace to measure");
    ActorRef<Routee.Command> only = testKit.spawn(HashWorker.create("only", "no-successor"));
    Routees.await(testKit, "no-successor", 1);
    ActorRef<RouterActor.Command> router = router();
    assertEquals(List.of("only"), servedBy(router, "no-successor", 1));

    testKit.stop(only);
    Routees.await(testKit, "no-successor", 0);
    awaitNoRoutees(router);
    TestProbe<RouterActor.Reply> client = testKit.createTestProbe();
    long sent = System.nanoTime();
    router.tell(new RouterActor.Route("client", "no-successor", "late", client.getRef()));
    assertEquals(
        new RouterActor.Rejected(
            ErrorCode.NO_WORKER_FOR_POLICY, "no worker serves policy \"no-successor\""),
        client.receiveMessage(Duration.ofSeconds(10)));
    long waited = System.nanoTime() - sent;
    assertTrue(
        waited >= TestConfigs.noWorkerGrace().toNanos() - Duration.ofMillis(500).toNanos(),
        "answered after " + waited / 1_000_000 + " ms, before the grace was over");
  }

  @Test
  void workerThatNeverAnswersGivesATimeoutError() {
    TestProbe<Routee.Command> silent = testKit.createTestProbe();
    testKit
        .system()
        .receptionist()
        .tell(Receptionist.register(Routee.serviceKey("silent"), silent.getRef()));
    Routees.await(testKit, "silent", 1);
    ActorRef<RouterActor.Command> router =
        testKit.spawn(RouterActor.create(TestConfigs.proxySettings(Duration.ofMillis(300))));
    TestProbe<RouterActor.Reply> probe = testKit.createTestProbe();

    router.tell(new RouterActor.Route("client", "silent", "lost", probe.getRef()));

    assertEquals("lost", silent.expectMessageClass(Routee.Hash.class).payload());
    RouterActor.Rejected rejected =
        probe.expectMessageClass(RouterActor.Rejected.class, Duration.ofSeconds(3));
    assertEquals(ErrorCode.TIMEOUT, rejected.code());
    assertEquals(
        "no worker of policy \"silent\" answered within 300 ms (1 attempt(s))", rejected.message());
    silent.expectNoMessage(Duration.ofMillis(200));
  }

  @Test
  void attemptThatTimesOutIsRetriedOnTheNextWorker() {
    TestProbe<Routee.Command> silent = testKit.createTestProbe();
    testKit
        .system()
        .receptionist()
        .tell(Receptionist.register(Routee.serviceKey("retry-timeout"), silent.getRef()));
    testKit.spawn(HashWorker.create("alive", "retry-timeout"));
    Routees.await(testKit, "retry-timeout", 2);
    ActorRef<RouterActor.Command> router =
        testKit.spawn(
            RouterActor.create(
                TestConfigs.proxySettings(
                    Duration.ofSeconds(5), Duration.ofSeconds(1), 65536, 10)));

    // Whichever routee comes first, every request ends up served by the live worker. The silent
    // one never answered, so only its timeouts count: two in a row eject it.
    assertEquals(List.of("alive", "alive", "alive", "alive"), servedBy(router, "retry-timeout", 4));
    assertEquals(2, drain(silent), "attempts that reached the silent routee");
  }

  /** A routee whose backend is down: it answers every request with Unavailable. */
  private static Behavior<Routee.Command> alwaysUnavailable() {
    return Behaviors.receiveMessage(
        command -> {
          ((Routee.Hash) command).refuse("down", "backend closed");
          return Behaviors.same();
        });
  }

  @Test
  void routeeThatSaysUnavailableIsSkippedAtOnce() {
    ActorRef<Routee.Command> down = testKit.spawn(alwaysUnavailable());
    testKit
        .system()
        .receptionist()
        .tell(Receptionist.register(Routee.serviceKey("retry-unavailable"), down));
    testKit.spawn(HashWorker.create("up", "retry-unavailable"));
    Routees.await(testKit, "retry-unavailable", 2);
    // Attempts time out only after 30 s: within the 5 s per reply of servedBy, only an immediate
    // retry after Unavailable can succeed.
    ActorRef<RouterActor.Command> router =
        testKit.spawn(
            RouterActor.create(
                TestConfigs.proxySettings(
                    Duration.ofSeconds(60), Duration.ofSeconds(30), 65536, 10)));
    assertEquals(List.of("up", "up", "up", "up"), servedBy(router, "retry-unavailable", 4));
  }

  @Test
  void whenEveryAttemptIsUnavailableTheClientIsToldSo() {
    TestProbe<Routee.Command> down = testKit.createTestProbe();
    testKit
        .system()
        .receptionist()
        .tell(Receptionist.register(Routee.serviceKey("all-down"), down.getRef()));
    Routees.await(testKit, "all-down", 1);
    ActorRef<RouterActor.Command> router =
        testKit.spawn(
            RouterActor.create(
                TestConfigs.proxySettings(
                    Duration.ofSeconds(60), Duration.ofSeconds(30), 65536, 10)));
    TestProbe<RouterActor.Reply> client = testKit.createTestProbe();
    router.tell(new RouterActor.Route("c", "all-down", "p", client.getRef()));
    for (int attempt = 1; attempt <= 3; attempt++) {
      Routee.Hash hash = (Routee.Hash) down.receiveMessage();
      assertEquals("c", hash.srcid());
      hash.refuse("down", "connection refused");
    }
    assertEquals(
        new RouterActor.Rejected(
            ErrorCode.WORKER_UNAVAILABLE,
            "no worker of policy \"all-down\" could serve the request after 3 attempt(s); last: connection refused"),
        client.receiveMessage());
    down.expectNoMessage(Duration.ofMillis(200));
  }

  @Test
  void aRouteeThatNeverAnswersIsEjectedAfterTwoTimeoutsAndGetsNoMoreTraffic() {
    TestProbe<Routee.Command> dead = testKit.createTestProbe();
    testKit
        .system()
        .receptionist()
        .tell(Receptionist.register(Routee.serviceKey("eject"), dead.getRef()));
    testKit.spawn(HashWorker.create("alive", "eject"));
    Routees.await(testKit, "eject", 2);
    ActorRef<RouterActor.Command> router =
        testKit.spawn(
            RouterActor.create(
                TestConfigs.proxySettings(
                    Duration.ofSeconds(5), Duration.ofMillis(150), 65536, 10)));

    // Every request is served whatever the dead routee does; it never answered, so two timeouts
    // in a row (150 ms each) eject it.
    assertEquals(
        List.of("alive", "alive", "alive", "alive", "alive", "alive"),
        servedBy(router, "eject", 6));
    assertEquals(2, drain(dead), "attempts before the ejection");

    // Ejected (for 10 s in these settings): the next requests never reach it.
    assertEquals(
        List.of("alive", "alive", "alive", "alive", "alive", "alive", "alive", "alive"),
        servedBy(router, "eject", 8));
    dead.expectNoMessage(Duration.ofMillis(100));
  }

  /** Tells a {@link #goesSilent} routee to stop answering. */
  private record GoSilent() implements Routee.Command {}

  /** A worker that answers as {@code id} until told to go silent; counts what it gets after. */
  private static Behavior<Routee.Command> goesSilent(String id, AtomicInteger afterSilence) {
    return Behaviors.receiveMessage(
        command -> {
          if (command instanceof GoSilent) {
            return Behaviors.receiveMessage(
                later -> {
                  afterSilence.incrementAndGet();
                  return Behaviors.same();
                });
          }
          Routee.Hash hash = (Routee.Hash) command;
          hash.answer(id, PayloadHash.sha1Hex(hash.payload()));
          return Behaviors.same();
        });
  }

  @Test
  void aRouteeThatFallsSilentIsEjectedOnItsFirstOverdueAttemptThroughTheGroupRouter() {
    AtomicInteger afterSilence = new AtomicInteger();
    ActorRef<Routee.Command> fading = testKit.spawn(goesSilent("fading", afterSilence));
    testKit.system().receptionist().tell(Receptionist.register(Routee.serviceKey("fades"), fading));
    testKit.spawn(HashWorker.create("w1", "fades"));
    testKit.spawn(HashWorker.create("w2", "fades"));
    Routees.await(testKit, "fades", 3);
    // Without the warm-up: its ejection must outlast the 30 requests below, however slow.
    ActorRef<RouterActor.Command> router =
        testKit.spawn(
            RouterActor.create(
                TestConfigs.withOutliers(
                    TestConfigs.proxySettings(
                        Duration.ofSeconds(5), Duration.ofMillis(200), 65536, 10),
                    TestConfigs.outlierSettingsWithoutWarmUp())));
    // While all answer, first attempts go through the group router, round robin.
    List<String> before = servedBy(router, "fades", 9);
    assertEquals(Set.of("fading", "w1", "w2"), new TreeSet<>(before));
    assertStrictRotation(before, 3);

    fading.tell(new GoSilent());
    List<String> after = servedBy(router, "fades", 30);
    assertTrue(after.stream().allMatch(id -> id.startsWith("w")), after.toString());
    // Its first attempt through the group router is pinned on it: overdue, ejected, retried.
    assertEquals(1, afterSilence.get(), "attempts that went to the silent routee");
  }

  /** Tells a {@link #slowsDown} routee to answer only after {@code delay} from now on. */
  private record GoSlow(Duration delay) implements Routee.Command {}

  /**
   * A worker that answers correctly at once until told to go slow; then after the delay, and counts
   * what it gets from then on.
   */
  private static Behavior<Routee.Command> slowsDown(String id, AtomicInteger gotWhenSlow) {
    record Later(Routee.Hash hash) implements Routee.Command {}
    Duration[] delay = {Duration.ZERO};
    return Behaviors.withTimers(
        timers ->
            Behaviors.receiveMessage(
                command -> {
                  if (command instanceof GoSlow slow) {
                    delay[0] = slow.delay();
                  } else if (command instanceof Routee.Hash hash) {
                    if (delay[0].isZero()) {
                      hash.answer(id, PayloadHash.sha1Hex(hash.payload()));
                    } else {
                      gotWhenSlow.incrementAndGet();
                      timers.startSingleTimer(new Later(hash), delay[0]);
                    }
                  } else {
                    Routee.Hash hash = ((Later) command).hash();
                    hash.answer(id, PayloadHash.sha1Hex(hash.payload()));
                  }
                  return Behaviors.same();
                }));
  }

  @Test
  void aRouteeThatAnswersButFarSlowerThanTheOthersIsEjectedByLatency() {
    AtomicInteger gotWhenSlow = new AtomicInteger();
    ActorRef<Routee.Command> slowpoke = testKit.spawn(slowsDown("slowpoke", gotWhenSlow));
    testKit
        .system()
        .receptionist()
        .tell(Receptionist.register(Routee.serviceKey("lagging"), slowpoke));
    testKit.spawn(HashWorker.create("quick-1", "lagging"));
    testKit.spawn(HashWorker.create("quick-2", "lagging"));
    Routees.await(testKit, "lagging", 3);
    // Without the warm-up: its ejection must outlast the 20 requests below, however slow.
    ActorRef<RouterActor.Command> router =
        testKit.spawn(
            RouterActor.create(
                TestConfigs.withOutliers(
                    TestConfigs.proxySettings(
                        Duration.ofSeconds(5), Duration.ofSeconds(2), 65536, 10),
                    TestConfigs.outlierSettingsWithoutWarmUp())));
    assertTrue(servedBy(router, "lagging", 6).contains("slowpoke"), "it served while fast");
    slowpoke.tell(new GoSlow(Duration.ofSeconds(1)));
    List<String> served = servedBy(router, "lagging", 20);
    assertTrue(served.stream().allMatch(id -> id.startsWith("quick-")), served.toString());
    // Its first slow attempt (1 s, where the others take a millisecond) had no reply after
    // 100 ms: ejected and retried, long before the 2 s attempt timeout.
    assertEquals(1, gotWhenSlow.get(), "attempts that reached the slow routee");
  }

  /** As {@link #goesSilent}, keeping when each message after the silence came (nanoTime). */
  private static Behavior<Routee.Command> goesSilentTimed(String id, Queue<Long> arrivals) {
    return Behaviors.receiveMessage(
        command -> {
          if (command instanceof GoSilent) {
            return Behaviors.receiveMessage(
                later -> {
                  arrivals.add(System.nanoTime());
                  return Behaviors.same();
                });
          }
          Routee.Hash hash = (Routee.Hash) command;
          hash.answer(id, PayloadHash.sha1Hex(hash.payload()));
          return Behaviors.same();
        });
  }

  @Test
  void aRouteeThatStallsWithinItsWarmUpSitsOutOneSecondThenItsProbeFailsAndItSitsOutTen()
      throws Exception {
    Queue<Long> arrivals = new ConcurrentLinkedQueue<>();
    ActorRef<Routee.Command> young = testKit.spawn(goesSilentTimed("young", arrivals));
    testKit
        .system()
        .receptionist()
        .tell(Receptionist.register(Routee.serviceKey("warming"), young));
    testKit.spawn(HashWorker.create("settled", "warming"));
    Routees.await(testKit, "warming", 2);
    // The shipped outlier detection: overdue after 100 ms; within 10 s of its first answer an
    // ejection lasts 1 s; a failed probe after it, ejection-time, 10 s.
    ActorRef<RouterActor.Command> router =
        testKit.spawn(RouterActor.create(TestConfigs.withOutliers(TestConfigs.outlierSettings())));
    boolean answered = false;
    long until = System.nanoTime() + Duration.ofSeconds(3).toNanos();
    while (!answered && System.nanoTime() < until) { // a pause may eject it for 1 s first
      answered = servedBy(router, "warming", 6).contains("young");
    }
    assertTrue(answered, "it served, just now");
    young.tell(new GoSilent());

    // Requests, 4 at a time, for 4 s, well within its warm-up. The attempts that reach it before
    // its ejection (E, about 100 ms after the first) come together; then it sits out 1 s, its
    // probe at about E + 1 s is overdue too, and it sits out 10 s. (With the first form of the
    // warm-up, 2 s, a second probe came at about E + 3 s; without a warm-up, none.)
    TestProbe<RouterActor.Reply> client = testKit.createTestProbe();
    long start = System.nanoTime();
    int sent = 0;
    while (System.nanoTime() - start < Duration.ofSeconds(4).toNanos()) {
      for (int i = 0; i < 4; i++, sent++) {
        router.tell(new RouterActor.Route("w" + sent, "warming", "p" + sent, client.getRef()));
      }
      for (int i = 0; i < 4; i++) {
        RouterActor.Served served =
            client.expectMessageClass(RouterActor.Served.class, Duration.ofSeconds(3));
        assertEquals("settled", served.workerId());
      }
      Thread.sleep(5);
    }
    List<Long> times = new ArrayList<>(arrivals);
    assertFalse(times.isEmpty(), "its first attempt after the silence reached it");
    long first = times.get(0);
    List<Long> burst =
        times.stream().filter(t -> t - first < Duration.ofMillis(500).toNanos()).toList();
    List<Long> probes =
        times.stream().filter(t -> t - first >= Duration.ofMillis(500).toNanos()).toList();
    assertTrue(burst.size() <= 4, burst.size() + " attempts before its ejection");
    assertEquals(1, probes.size(), "one probe after the 1 s, then 10 s out");
    long probeAfterMs = (probes.get(0) - first) / 1_000_000;
    assertTrue(
        probeAfterMs >= 1000 && probeAfterMs <= 2500,
        "the probe " + probeAfterMs + " ms after its first silent attempt");
  }

  @Test
  void anEjectedRouteeIsProbedWithOneRequestAtATimeAndEjectedLongerEachTime() throws Exception {
    AtomicInteger afterSilence = new AtomicInteger();
    ActorRef<Routee.Command> fading = testKit.spawn(goesSilent("fading", afterSilence));
    testKit
        .system()
        .receptionist()
        .tell(Receptionist.register(Routee.serviceKey("probed"), fading));
    testKit.spawn(HashWorker.create("steady", "probed"));
    Routees.await(testKit, "probed", 2);
    OutlierSettings outliers =
        OutlierSettings.withoutWarmUp(
            Duration.ofMillis(25),
            Duration.ofSeconds(1),
            3,
            Duration.ofMillis(5),
            2,
            Duration.ofMillis(300),
            Duration.ofSeconds(10),
            50);
    ActorRef<RouterActor.Command> router =
        testKit.spawn(RouterActor.create(TestConfigs.withOutliers(outliers)));
    assertTrue(servedBy(router, "probed", 6).contains("fading"), "it served before");
    fading.tell(new GoSilent());

    // Requests, 8 at a time, for 1.2 s. No reply for 25 ms: ejected at once (E), its attempts
    // retried; probed at E + 300 ms (ejected again, for 600 ms), probed at about E + 925 ms
    // (ejected for 1.2 s): two probes after the ejection.
    TestProbe<RouterActor.Reply> client = testKit.createTestProbe();
    long start = System.nanoTime();
    int beforeEjection = -1;
    int sent = 0;
    while (System.nanoTime() - start < Duration.ofMillis(1200).toNanos()) {
      for (int i = 0; i < 8; i++, sent++) {
        router.tell(new RouterActor.Route("c" + sent, "probed", "p" + sent, client.getRef()));
      }
      for (int i = 0; i < 8; i++) {
        RouterActor.Served served =
            client.expectMessageClass(RouterActor.Served.class, Duration.ofSeconds(3));
        assertEquals("steady", served.workerId());
      }
      if (beforeEjection < 0 && System.nanoTime() - start > Duration.ofMillis(100).toNanos()) {
        beforeEjection = afterSilence.get();
      }
      Thread.sleep(5);
    }
    assertTrue(beforeEjection >= 1 && beforeEjection <= 4, beforeEjection + " before the ejection");
    assertEquals(2, afterSilence.get() - beforeEjection, "probes after the ejection");
  }

  /** Receives whatever the probe got so far, without waiting for more than a moment. */
  private static int drain(TestProbe<Routee.Command> probe) {
    int count = 0;
    while (true) {
      try {
        probe.receiveMessage(Duration.ofMillis(50));
        count++;
      } catch (AssertionError none) {
        return count;
      }
    }
  }

  @Test
  void directRetriesNeverRepeatARouteeSoFiveAttemptsFindTheOneLiveWorkerOfFour() {
    // Three silent routees and one live worker. The first attempt goes through the group router
    // (which may pick any routee); each retry goes straight to a routee not yet tried directly.
    List<TestProbe<Routee.Command>> silent = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      TestProbe<Routee.Command> probe = testKit.createTestProbe();
      silent.add(probe);
      testKit
          .system()
          .receptionist()
          .tell(Receptionist.register(Routee.serviceKey("distinct"), probe.getRef()));
    }
    testKit.spawn(HashWorker.create("last-hope", "distinct"));
    Routees.await(testKit, "distinct", 4);
    ActorRef<RouterActor.Command> router =
        testKit.spawn(
            RouterActor.create(
                new ProxySettings(
                    "127.0.0.1",
                    0,
                    Duration.ofSeconds(10),
                    Duration.ofMillis(150),
                    5,
                    TestConfigs.noWorkerGrace(),
                    64,
                    65536,
                    10,
                    Duration.ofSeconds(60),
                    100,
                    Duration.ofSeconds(60),
                    Duration.ofSeconds(10),
                    TestConfigs.outlierSettings(),
                    TestConfigs.remoteBatch(),
                    Optional.empty(),
                    false,
                    false)));
    assertEquals(List.of("last-hope", "last-hope", "last-hope"), servedBy(router, "distinct", 3));
    for (TestProbe<Routee.Command> probe : silent) {
      // Per request at most once by the group router and once directly.
      assertTrue(drain(probe) <= 6, "a silent routee was retried directly twice for one request");
    }
  }

  @Test
  void requestWhoseDeadlinePassedBeforeItWasSentIsAnsweredAndTheRouterLivesOn() {
    testKit.spawn(HashWorker.create("w", "late-deadline"));
    Routees.await(testKit, "late-deadline", 1);
    // 1 ms: the first attempt may wait for the policy's first listing past its deadline; every
    // request must still be answered, and the router keep working.
    ActorRef<RouterActor.Command> router =
        testKit.spawn(
            RouterActor.create(
                TestConfigs.proxySettings(Duration.ofMillis(1), Duration.ofMillis(1), 65536, 10)));
    TestProbe<RouterActor.Reply> client = testKit.createTestProbe();
    for (int i = 0; i < 3; i++) {
      router.tell(new RouterActor.Route("c", "late-deadline", "p" + i, client.getRef()));
      RouterActor.Reply reply = client.receiveMessage(Duration.ofSeconds(3));
      assertTrue(
          reply instanceof RouterActor.Served
              || (reply instanceof RouterActor.Rejected rejected
                  && rejected.code() == ErrorCode.TIMEOUT),
          reply.toString());
    }
  }

  @Test
  void policiesBeyondTheLimitAreRefused() {
    ActorRef<RouterActor.Command> router =
        testKit.spawn(
            RouterActor.create(
                TestConfigs.proxySettings(Duration.ofSeconds(3), Duration.ofSeconds(3), 65536, 2)));
    assertEquals(
        ErrorCode.NO_WORKER_FOR_POLICY,
        ((RouterActor.Rejected) route(router, "lim-1", "x")).code());
    assertEquals(
        ErrorCode.NO_WORKER_FOR_POLICY,
        ((RouterActor.Rejected) route(router, "lim-2", "x")).code());
    RouterActor.Rejected third = (RouterActor.Rejected) route(router, "lim-3", "x");
    assertEquals(ErrorCode.TOO_MANY_POLICIES, third.code());
    // Policies already tracked keep working.
    assertNotEquals(
        ErrorCode.TOO_MANY_POLICIES, ((RouterActor.Rejected) route(router, "lim-1", "x")).code());
  }

  private static ErrorCode rejection(ActorRef<RouterActor.Command> router, String policy) {
    RouterActor.Reply reply = route(router, policy, "x");
    assertTrue(reply instanceof RouterActor.Rejected, reply.toString());
    return ((RouterActor.Rejected) reply).code();
  }

  @Test
  void policiesWithoutWorkersAreForgottenWhenIdleSoMadeUpIdsCannotFillTheSlots() {
    ActorRef<RouterActor.Command> router =
        testKit.spawn(RouterActor.create(TestConfigs.withPolicyLimits(2, Duration.ofMillis(600))));
    assertEquals(ErrorCode.NO_WORKER_FOR_POLICY, rejection(router, "made-up-1"));
    assertEquals(ErrorCode.NO_WORKER_FOR_POLICY, rejection(router, "made-up-2"));
    assertEquals(ErrorCode.TOO_MANY_POLICIES, rejection(router, "real-1"));
    // Once the made-up policies were idle long enough, both of their slots are free again (the
    // two may go in different sweeps; asking keeps "real-1" and "real-2" tracked meanwhile).
    TestProbe<Void> waiter = testKit.createTestProbe();
    waiter.awaitAssert(
        Duration.ofSeconds(5),
        Duration.ofMillis(50),
        () -> {
          assertEquals(ErrorCode.NO_WORKER_FOR_POLICY, rejection(router, "real-1"));
          assertEquals(ErrorCode.NO_WORKER_FOR_POLICY, rejection(router, "real-2"));
          return null;
        });
    // "real-1" and "real-2" now hold the two slots.
    assertEquals(ErrorCode.TOO_MANY_POLICIES, rejection(router, "made-up-1"));
  }

  @Test
  void aPolicyWithWorkersIsNeverForgotten() throws InterruptedException {
    testKit.spawn(HashWorker.create("kept", "kept-policy"));
    Routees.await(testKit, "kept-policy", 1);
    ActorRef<RouterActor.Command> router =
        testKit.spawn(RouterActor.create(TestConfigs.withPolicyLimits(1, Duration.ofMillis(200))));
    assertEquals(List.of("kept"), servedBy(router, "kept-policy", 1));
    Thread.sleep(1000); // five forget periods without a request
    assertEquals(ErrorCode.TOO_MANY_POLICIES, rejection(router, "other"));
    assertEquals(List.of("kept", "kept"), servedBy(router, "kept-policy", 2));
  }

  @Test
  void aForgottenPolicyIsServedOnceItsWorkersArrive() {
    ActorRef<RouterActor.Command> router =
        testKit.spawn(RouterActor.create(TestConfigs.withPolicyLimits(1, Duration.ofMillis(200))));
    assertEquals(ErrorCode.NO_WORKER_FOR_POLICY, rejection(router, "comes-back"));
    TestProbe<Void> waiter = testKit.createTestProbe();
    // "gap" takes the only slot: "comes-back" was forgotten.
    waiter.awaitAssert(
        Duration.ofSeconds(5),
        Duration.ofMillis(50),
        () -> {
          assertEquals(ErrorCode.NO_WORKER_FOR_POLICY, rejection(router, "gap"));
          return null;
        });
    testKit.spawn(HashWorker.create("returned", "comes-back"));
    Routees.await(testKit, "comes-back", 1);
    // Once "gap" is forgotten in turn, "comes-back" is tracked afresh: a new router, a new
    // subscription, and its worker serves it.
    waiter.awaitAssert(
        Duration.ofSeconds(5),
        Duration.ofMillis(50),
        () -> {
          assertEquals(
              new RouterActor.Served("returned", PayloadHash.sha1Hex("x")),
              route(router, "comes-back", "x"));
          return null;
        });
  }

  @Test
  void aLateReplyToATimedOutAttemptIsNotTakenForTheRetrysAnswer() {
    TestProbe<Routee.Command> worker = testKit.createTestProbe();
    testKit
        .system()
        .receptionist()
        .tell(Receptionist.register(Routee.serviceKey("late-reply"), worker.getRef()));
    Routees.await(testKit, "late-reply", 1);
    ActorRef<RouterActor.Command> router =
        testKit.spawn(
            RouterActor.create(
                TestConfigs.proxySettings(
                    Duration.ofSeconds(5), Duration.ofSeconds(1), 65536, 10)));
    TestProbe<RouterActor.Reply> client = testKit.createTestProbe();
    router.tell(new RouterActor.Route("c", "late-reply", "payload", client.getRef()));
    Routee.Hash first = worker.expectMessageClass(Routee.Hash.class);
    // The first attempt times out after 1 s; the retry comes to the same (only) worker with a new
    // id, and has 1 s of its own: ample time for the steps below.
    Routee.Hash retry = worker.expectMessageClass(Routee.Hash.class, Duration.ofSeconds(3));
    assertNotEquals(first.requestId(), retry.requestId());
    first.answer("first", "late-and-wrong");
    client.expectNoMessage(Duration.ofMillis(100));
    retry.answer("retry", PayloadHash.sha1Hex("payload"));
    assertEquals(
        new RouterActor.Served("retry", PayloadHash.sha1Hex("payload")), client.receiveMessage());
    client.expectNoMessage(Duration.ofMillis(100));
  }
}
