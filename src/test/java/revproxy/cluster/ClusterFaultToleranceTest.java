package revproxy.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.Address;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import revproxy.Routees;
import revproxy.TestConfigs;
import revproxy.protocol.PayloadHash;
import revproxy.proxy.ProxySettings;
import revproxy.proxy.RouterActor;
import revproxy.worker.WorkerNode;
import revproxy.worker.WorkerSettings;
import revproxy.worker.WorkerSpec;

/**
 * Worker nodes leave or die while requests stream through the proxy node's router: every request
 * must still get a correct answer (retried on the other node when its attempt fails).
 */
class ClusterFaultToleranceTest {

  private final List<ActorTestKit> nodes = new ArrayList<>();

  @AfterEach
  void shutdown() {
    for (int i = nodes.size() - 1; i >= 0; i--) {
      nodes.get(i).shutdownTestKit();
    }
  }

  private ActorTestKit node(String role, Config extra) {
    ActorTestKit kit =
        ActorTestKit.create(
            NodeConfig.SYSTEM_NAME, extra.withFallback(TestConfigs.clusterNode(role)));
    nodes.add(kit);
    return kit;
  }

  private static void join(ActorTestKit node, Address seed) {
    Cluster.get(node.system()).manager().tell(Join.create(seed));
  }

  /** Proxy node plus worker nodes A (worker a) and B (worker b), both serving policy "ft". */
  private List<ActorTestKit> cluster(Config nodeBExtra) {
    ActorTestKit proxy = node("proxy", ConfigFactory.empty());
    Address seed = Cluster.get(proxy.system()).selfMember().address();
    join(proxy, seed);
    WorkerSettings settings =
        new WorkerSettings(
            Duration.ofSeconds(1), Optional.of(Duration.ofSeconds(60)), Duration.ofSeconds(10));
    ActorTestKit a = node("worker", ConfigFactory.empty());
    a.spawn(WorkerNode.create(List.of(new WorkerSpec("a", "ft")), settings), "node");
    ActorTestKit b = node("worker", nodeBExtra);
    b.spawn(WorkerNode.create(List.of(new WorkerSpec("b", "ft")), settings), "node");
    join(a, seed);
    join(b, seed);
    TestProbe<Void> waiter = proxy.createTestProbe();
    waiter.awaitAssert(
        Duration.ofSeconds(30),
        () -> {
          for (ActorTestKit node : List.of(proxy, a, b)) {
            assertEquals(MemberStatus.up(), Cluster.get(node.system()).selfMember().status());
          }
          return null;
        });
    Routees.await(proxy, "ft", 2);
    return List.of(proxy, a, b);
  }

  private static ActorRef<RouterActor.Command> router(ActorTestKit proxy) {
    ProxySettings settings =
        TestConfigs.proxySettings(Duration.ofSeconds(10), Duration.ofMillis(500), 65536, 10);
    return proxy.spawn(RouterActor.create(settings));
  }

  /**
   * Sends batches of 10 concurrent requests for {@code total}, running {@code fault} after {@code
   * faultAfter}; asserts every reply is a correct hash and returns who served, per batch.
   */
  private static List<Map<String, Integer>> stream(
      ActorTestKit proxy,
      ActorRef<RouterActor.Command> router,
      Duration total,
      Duration faultAfter,
      Runnable fault)
      throws InterruptedException {
    TestProbe<RouterActor.Reply> client = proxy.createTestProbe();
    List<Map<String, Integer>> servedPerBatch = new ArrayList<>();
    long start = System.nanoTime();
    boolean faulted = false;
    for (int batch = 0; System.nanoTime() - start < total.toNanos(); batch++) {
      if (!faulted && System.nanoTime() - start >= faultAfter.toNanos()) {
        fault.run();
        faulted = true;
      }
      Thread.sleep(10);
      for (int i = 0; i < 10; i++) {
        router.tell(new RouterActor.Route("c", "ft", "p" + batch + "-" + i, client.getRef()));
      }
      Map<String, Integer> served = new TreeMap<>();
      List<String> hashes = new ArrayList<>();
      for (RouterActor.Reply reply : client.receiveSeveralMessages(10, Duration.ofSeconds(15))) {
        assertTrue(reply instanceof RouterActor.Served, "batch " + batch + ": " + reply);
        RouterActor.Served ok = (RouterActor.Served) reply;
        served.merge(ok.workerId(), 1, Integer::sum);
        hashes.add(ok.payloadHash());
      }
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        expected.add(PayloadHash.sha1Hex("p" + batch + "-" + i));
      }
      assertEquals(
          new java.util.TreeSet<>(expected), new java.util.TreeSet<>(hashes), "batch " + batch);
      servedPerBatch.add(served);
    }
    return servedPerBatch;
  }

  @Test
  void workerNodeLeavingGracefullyUnderLoadLosesNothing() throws InterruptedException {
    List<ActorTestKit> cluster = cluster(ConfigFactory.empty());
    ActorTestKit proxy = cluster.get(0);
    ActorTestKit nodeB = cluster.get(2);
    List<Map<String, Integer>> served =
        stream(
            proxy,
            router(proxy),
            Duration.ofSeconds(12),
            Duration.ofSeconds(1),
            () -> nodeB.system().terminate());

    assertTrue(served.get(0).containsKey("b"), "b served before it left: " + served.get(0));
    assertEquals(Map.of("a", 10), served.get(served.size() - 1), "only a serves at the end");
  }

  @Test
  void workerNodeDyingAbruptlyUnderLoadLosesNothing() throws InterruptedException {
    // Node B stops without leaving the cluster: no goodbye, as with kill -9.
    Config crashes =
        ConfigFactory.parseString(
            "akka.coordinated-shutdown.run-by-actor-system-terminate = off\n"
                + "akka.coordinated-shutdown.terminate-actor-system = off");
    List<ActorTestKit> cluster = cluster(crashes);
    ActorTestKit proxy = cluster.get(0);
    ActorTestKit nodeB = cluster.get(2);
    Address deadNode = Cluster.get(nodeB.system()).selfMember().address();
    List<Map<String, Integer>> served =
        stream(
            proxy,
            router(proxy),
            Duration.ofSeconds(12),
            Duration.ofSeconds(1),
            () -> nodeB.system().terminate());

    assertTrue(served.get(0).containsKey("b"), "b served before it died: " + served.get(0));
    assertEquals(Map.of("a", 10), served.get(served.size() - 1), "only a serves at the end");
    // As the Split Brain Resolver would after stable-after, so the other nodes can leave.
    Cluster.get(proxy.system()).manager().tell(new akka.cluster.typed.Down(deadNode));
  }
}
