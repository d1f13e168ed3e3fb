package revproxy.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.receptionist.Receptionist;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import revproxy.TestConfigs;
import revproxy.protocol.ErrorCode;
import revproxy.protocol.PayloadHash;
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

  /** Blocks until the receptionist lists exactly {@code count} workers for the policy. */
  private static void awaitWorkers(String policy, int count) {
    TestProbe<Receptionist.Listing> probe = testKit.createTestProbe();
    probe.awaitAssert(
        () -> {
          testKit
              .system()
              .receptionist()
              .tell(Receptionist.find(HashWorker.serviceKey(policy), probe.getRef()));
          assertEquals(
              count,
              probe.receiveMessage().getServiceInstances(HashWorker.serviceKey(policy)).size());
          return null;
        });
  }

  /** Routes one request and returns the reply. */
  private static RouterActor.Reply route(
      ActorRef<RouterActor.Command> router, String policy, String payload) {
    TestProbe<RouterActor.Reply> probe = testKit.createTestProbe();
    router.tell(new RouterActor.Route(policy, payload, probe.getRef()));
    return probe.receiveMessage(Duration.ofSeconds(5));
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
      assertEquals(workers.get(i), workers.get(i + period), "rotation broken at " + i + ": " + workers);
    }
    assertEquals(period, new TreeSet<>(workers.subList(0, period)).size(), "not all used: " + workers);
  }

  @Test
  void roundRobinAlternatesOverTwoWorkers() {
    testKit.spawn(HashWorker.create("a", "rr2"));
    testKit.spawn(HashWorker.create("b", "rr2"));
    awaitWorkers("rr2", 2);
    List<String> workers = servedBy(router(), "rr2", 8);
    assertStrictRotation(workers, 2);
    assertEquals(Set.of("a", "b"), new TreeSet<>(workers));
  }

  @Test
  void roundRobinCyclesThroughThreeWorkers() {
    testKit.spawn(HashWorker.create("a", "rr3"));
    testKit.spawn(HashWorker.create("b", "rr3"));
    testKit.spawn(HashWorker.create("c", "rr3"));
    awaitWorkers("rr3", 3);
    List<String> workers = servedBy(router(), "rr3", 9);
    assertStrictRotation(workers, 3);
    assertEquals(Set.of("a", "b", "c"), new TreeSet<>(workers));
  }

  @Test
  void policiesAreIsolatedFromEachOther() {
    testKit.spawn(HashWorker.create("x1", "iso-x"));
    testKit.spawn(HashWorker.create("x2", "iso-x"));
    testKit.spawn(HashWorker.create("y1", "iso-y"));
    awaitWorkers("iso-x", 2);
    awaitWorkers("iso-y", 1);
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
    router.tell(new RouterActor.Route("nobody-serves-this", "x", probe.getRef()));
    RouterActor.Rejected rejected =
        probe.expectMessageClass(RouterActor.Rejected.class, Duration.ofSeconds(2));
    assertEquals(ErrorCode.NO_WORKER_FOR_POLICY, rejected.code());
    assertEquals("no worker serves policy \"nobody-serves-this\"", rejected.message());
    // A second request for the now-known empty policy is rejected the same way.
    router.tell(new RouterActor.Route("nobody-serves-this", "y", probe.getRef()));
    assertEquals(
        ErrorCode.NO_WORKER_FOR_POLICY,
        probe.expectMessageClass(RouterActor.Rejected.class, Duration.ofSeconds(2)).code());
  }

  @Test
  void workerAddedAtRuntimeJoinsTheRotation() {
    testKit.spawn(HashWorker.create("first", "grow"));
    awaitWorkers("grow", 1);
    ActorRef<RouterActor.Command> router = router();
    assertEquals(List.of("first", "first"), servedBy(router, "grow", 2));

    testKit.spawn(HashWorker.create("second", "grow"));
    awaitWorkers("grow", 2);
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
    ActorRef<HashWorker.Command> stays = testKit.spawn(HashWorker.create("stays", "shrink"));
    ActorRef<HashWorker.Command> goes = testKit.spawn(HashWorker.create("goes", "shrink"));
    awaitWorkers("shrink", 2);
    ActorRef<RouterActor.Command> router = router();
    assertEquals(Set.of("stays", "goes"), new TreeSet<>(servedBy(router, "shrink", 2)));

    testKit.stop(goes);
    awaitWorkers("shrink", 1);
    TestProbe<Void> waiter = testKit.createTestProbe();
    waiter.awaitAssert(
        () -> {
          assertEquals(List.of("stays", "stays", "stays"), servedBy(router, "shrink", 3));
          return null;
        });

    testKit.stop(stays);
    awaitWorkers("shrink", 0);
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
  void workerThatNeverAnswersGivesATimeoutError() {
    TestProbe<HashWorker.Command> silent = testKit.createTestProbe();
    testKit
        .system()
        .receptionist()
        .tell(Receptionist.register(HashWorker.serviceKey("silent"), silent.getRef()));
    awaitWorkers("silent", 1);
    ActorRef<RouterActor.Command> router =
        testKit.spawn(RouterActor.create(TestConfigs.proxySettings(Duration.ofMillis(300))));
    TestProbe<RouterActor.Reply> probe = testKit.createTestProbe();

    router.tell(new RouterActor.Route("silent", "lost", probe.getRef()));

    assertEquals("lost", silent.expectMessageClass(HashWorker.Hash.class).payload());
    RouterActor.Rejected rejected =
        probe.expectMessageClass(RouterActor.Rejected.class, Duration.ofSeconds(3));
    assertEquals(ErrorCode.TIMEOUT, rejected.code());
    assertEquals("no worker of policy \"silent\" answered within 300 ms", rejected.message());
  }

  @Test
  void policiesBeyondTheLimitAreRefused() {
    ActorRef<RouterActor.Command> router =
        testKit.spawn(
            RouterActor.create(
                new ProxySettings("127.0.0.1", 0, Duration.ofSeconds(3), 64, 65536, 2)));
    assertEquals(ErrorCode.NO_WORKER_FOR_POLICY, ((RouterActor.Rejected) route(router, "lim-1", "x")).code());
    assertEquals(ErrorCode.NO_WORKER_FOR_POLICY, ((RouterActor.Rejected) route(router, "lim-2", "x")).code());
    RouterActor.Rejected third = (RouterActor.Rejected) route(router, "lim-3", "x");
    assertEquals(ErrorCode.TOO_MANY_POLICIES, third.code());
    // Policies already tracked keep working.
    assertNotEquals(
        ErrorCode.TOO_MANY_POLICIES, ((RouterActor.Rejected) route(router, "lim-1", "x")).code());
  }
}
