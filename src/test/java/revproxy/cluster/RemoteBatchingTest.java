package revproxy.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.Address;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.DispatcherSelector;
import akka.actor.typed.Props;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.receptionist.Receptionist;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import revproxy.Routees;
import revproxy.TestConfigs;
import revproxy.protocol.PayloadHash;
import revproxy.proxy.ProxySettings;
import revproxy.proxy.RouterActor;
import revproxy.routee.Routee;

/**
 * A proxy node and a worker node in one JVM: requests for routees on the other node go several to
 * one remote message (a {@code HashBatch}), and still each request to the routee that the round
 * robin gives it, as if it had gone alone.
 */
class RemoteBatchingTest {

  /** One thread: while a blocker holds it, requests queue up in the router's mailbox. */
  static final ActorTestKit proxyNode =
      ActorTestKit.create(
          NodeConfig.SYSTEM_NAME,
          ConfigFactory.parseString(
                  "one-thread { type = Dispatcher, executor = thread-pool-executor,"
                      + " thread-pool-executor.fixed-pool-size = 1, throughput = 1000 }")
              .withFallback(TestConfigs.clusterNode("proxy")));

  static final DispatcherSelector ONE_THREAD = DispatcherSelector.fromConfig("one-thread");
  static final ActorTestKit workerNode =
      ActorTestKit.create(NodeConfig.SYSTEM_NAME, TestConfigs.clusterNode("worker"));

  /** What the two spy routees received: "100:1" for a lone Hash, "100:15" for a batch of 15. */
  static final Queue<String> received = new ConcurrentLinkedQueue<>();

  @BeforeAll
  static void formCluster() {
    Address seed = Cluster.get(proxyNode.system()).selfMember().address();
    for (ActorTestKit node : List.of(proxyNode, workerNode)) {
      Cluster.get(node.system()).manager().tell(Join.create(seed));
    }
    TestProbe<Void> probe = proxyNode.createTestProbe();
    probe.awaitAssert(
        Duration.ofSeconds(20),
        () -> {
          for (ActorTestKit node : List.of(proxyNode, workerNode)) {
            assertEquals(MemberStatus.up(), Cluster.get(node.system()).selfMember().status());
          }
          return null;
        });
    for (String id : List.of("100", "300")) {
      ActorRef<Routee.Command> spy = workerNode.spawn(spy(id), "spy-" + id);
      workerNode
          .system()
          .receptionist()
          .tell(Receptionist.register(Routee.serviceKey("batch"), spy));
    }
    Routees.await(proxyNode, "batch", 2);
  }

  @AfterAll
  static void shutdown() {
    workerNode.shutdownTestKit();
    proxyNode.shutdownTestKit();
  }

  /** A HashWorker that notes each message it gets. */
  private static Behavior<Routee.Command> spy(String id) {
    return Behaviors.receiveMessage(
        command -> {
          if (command instanceof Routee.Hash hash) {
            received.add(id + ":1");
            hash.answer(id, PayloadHash.sha1Hex(hash.payload()));
          } else if (command instanceof Routee.HashBatch batch) {
            received.add(id + ":" + batch.hashes().size());
            batch.answerAll(
                hash ->
                    new Routee.Hashed(hash.requestId(), id, PayloadHash.sha1Hex(hash.payload())));
          }
          return Behaviors.same();
        });
  }

  /** The shipped settings, but routees are never held back: every first attempt is a group send. */
  private static ProxySettings steady(int maxBatch) {
    return TestConfigs.withOutliers(TestConfigs.patientOutliers())
        .withRemoteBatch(new ProxySettings.RemoteBatch(maxBatch, 32768));
  }

  private static ActorRef<RouterActor.Command> router(int maxBatch) {
    return proxyNode.spawn(
        RouterActor.create(steady(maxBatch)), Props.empty().withNext(ONE_THREAD));
  }

  /**
   * Sends {@code count} requests, all in the router's mailbox before it handles the first; returns
   * who served each, in request order.
   */
  private static List<String> burst(ActorRef<RouterActor.Command> router, String tag, int count) {
    List<TestProbe<RouterActor.Reply>> clients = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      clients.add(proxyNode.createTestProbe());
    }
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch blocking = new CountDownLatch(1);
    ActorRef<String> blocker =
        proxyNode.spawn(
            Behaviors.receiveMessage(
                (String go) -> {
                  blocking.countDown();
                  release.await(10, TimeUnit.SECONDS);
                  return Behaviors.stopped();
                }),
            Props.empty().withNext(ONE_THREAD));
    blocker.tell("block");
    try {
      assertTrue(blocking.await(10, TimeUnit.SECONDS), "the router's thread is held");
      for (int i = 0; i < count; i++) {
        router.tell(
            new RouterActor.Route(tag + i, "batch", tag + "-" + i, clients.get(i).getRef()));
      }
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    } finally {
      release.countDown();
    }
    List<String> workers = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      RouterActor.Served served =
          clients.get(i).expectMessageClass(RouterActor.Served.class, Duration.ofSeconds(10));
      assertEquals(PayloadHash.sha1Hex(tag + "-" + i), served.payloadHash(), "request " + i);
      workers.add(served.workerId());
    }
    return workers;
  }

  /** The sizes of the messages {@code routee} received, in order (1: a lone Hash). */
  private static List<Integer> batchesOf(String routee) {
    return received.stream()
        .filter(r -> r.startsWith(routee + ":"))
        .map(r -> Integer.parseInt(r.substring(routee.length() + 1)))
        .toList();
  }

  private static void assertAlternates(List<String> workers) {
    for (int i = 0; i + 1 < workers.size(); i++) {
      assertNotEquals(
          workers.get(i), workers.get(i + 1), "not round robin per request: " + workers);
    }
  }

  /** The two routees, the one whose turn is next first. */
  private static List<String> learn(ActorRef<RouterActor.Command> router) {
    // The first requests go directly, to learn both routees' worker ids; then through the group.
    List<String> learnt = new ArrayList<>(burst(router, "learn", 2));
    assertEquals(Set.of("100", "300"), new TreeSet<>(learnt));
    received.clear();
    List<String> next = burst(router, "turn", 1);
    received.clear();
    return List.of(next.get(0).equals("100") ? "300" : "100", next.get(0));
  }

  @Test
  void aBurstGoesInOneBatchPerRoutee_YetEachRequestToItsTurnInTheRoundRobin() {
    ActorRef<RouterActor.Command> router = router(64);
    List<String> turn = learn(router);
    List<String> workers = burst(router, "r", 41);
    // 20 full rows: one message of 20 to each routee; the 41st alone, to the first in turn.
    assertEquals(List.of(20, 1), batchesOf(turn.get(0)));
    assertEquals(List.of(20), batchesOf(turn.get(1)));
    assertAlternates(workers);
    assertEquals(turn.get(0), workers.get(0));
    // The group router is where the per-request round robin says, batch after batch.
    received.clear();
    List<String> next = burst(router, "again", 6);
    assertEquals(List.of(3), batchesOf(turn.get(1)));
    assertEquals(List.of(3), batchesOf(turn.get(0)));
    assertEquals(turn.get(1), next.get(0));
    assertAlternates(next);
  }

  @Test
  void withMaxRequestsOneEveryRequestIsItsOwnMessage() {
    ActorRef<RouterActor.Command> router = router(1);
    learn(router);
    List<String> workers = burst(router, "single", 41);
    assertAlternates(workers);
    assertEquals(41, received.size(), received.toString());
    assertTrue(received.stream().allMatch(r -> r.endsWith(":1")), received.toString());
  }

  @Test
  void aBatchHoldsAtMostMaxRequests() {
    ActorRef<RouterActor.Command> router = router(4);
    List<String> turn = learn(router);
    List<String> workers = burst(router, "capped", 21);
    // Runs of 4 rows: 4 + 4, 4 + 4, then 2 rows: 2 + 2; then the 21st alone.
    assertEquals(List.of(4, 4, 2, 1), batchesOf(turn.get(0)));
    assertEquals(List.of(4, 4, 2), batchesOf(turn.get(1)));
    assertAlternates(workers);
  }
}
