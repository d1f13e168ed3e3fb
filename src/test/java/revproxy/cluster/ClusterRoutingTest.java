package revproxy.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import akka.actor.Address;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import revproxy.Routees;
import revproxy.TestConfigs;
import revproxy.client.ClientSettings;
import revproxy.client.Exchange;
import revproxy.client.PacketFile;
import revproxy.client.ProxyClient;
import revproxy.legacy.LegacyRegistry;
import revproxy.proxy.ProxyServer;
import revproxy.proxy.RouterActor;
import revproxy.worker.HashWorker;

/**
 * Three cluster nodes in one JVM: a proxy node and two worker nodes on free Artery ports. Every
 * request crosses nodes, so every message is really serialized (Jackson CBOR).
 */
class ClusterRoutingTest {

  static final ActorTestKit proxyNode =
      ActorTestKit.create(NodeConfig.SYSTEM_NAME, TestConfigs.clusterNode("proxy"));
  static final ActorTestKit nodeA =
      ActorTestKit.create(NodeConfig.SYSTEM_NAME, TestConfigs.clusterNode("worker"));
  static final ActorTestKit nodeB =
      ActorTestKit.create(NodeConfig.SYSTEM_NAME, TestConfigs.clusterNode("worker"));
  static ActorRef<RouterActor.Command> router;

  @BeforeAll
  static void formCluster() {
    Address seed = Cluster.get(proxyNode.system()).selfMember().address();
    for (ActorTestKit node : List.of(proxyNode, nodeA, nodeB)) {
      Cluster.get(node.system()).manager().tell(Join.create(seed));
    }
    TestProbe<Void> probe = proxyNode.createTestProbe();
    probe.awaitAssert(
        Duration.ofSeconds(20),
        () -> {
          for (ActorTestKit node : List.of(proxyNode, nodeA, nodeB)) {
            assertEquals(MemberStatus.up(), Cluster.get(node.system()).selfMember().status());
          }
          return null;
        });
    nodeA.spawn(HashWorker.create("100", "111"), "worker-100");
    nodeA.spawn(HashWorker.create("200", "222"), "worker-200");
    nodeB.spawn(HashWorker.create("300", "111"), "worker-300");
    nodeB.spawn(HashWorker.create("400", "222"), "worker-400");
    Routees.await(proxyNode, "111", 2);
    Routees.await(proxyNode, "222", 2);
    router =
        proxyNode.spawn(
            RouterActor.create(TestConfigs.withOutliers(TestConfigs.patientOutliers())));
  }

  @AfterAll
  static void shutdown() {
    nodeA.shutdownTestKit();
    nodeB.shutdownTestKit();
    proxyNode.shutdownTestKit();
  }

  private static List<String> servedBy(String policy, int n) {
    List<String> workers = new ArrayList<>();
    TestProbe<RouterActor.Reply> probe = proxyNode.createTestProbe();
    for (int i = 0; i < n; i++) {
      router.tell(new RouterActor.Route("c" + i, policy, "cluster-" + i, probe.getRef()));
      RouterActor.Served served = probe.expectMessageClass(RouterActor.Served.class);
      assertEquals(revproxy.protocol.PayloadHash.sha1Hex("cluster-" + i), served.payloadHash());
      workers.add(served.workerId());
    }
    return workers;
  }

  @Test
  void eachPolicyAlternatesBetweenWorkersOnBothWorkerNodes() {
    // 100 and 200 live on node A, 300 and 400 on node B.
    List<String> policy111 = servedBy("111", 8);
    List<String> policy222 = servedBy("222", 8);
    for (List<String> workers : List.of(policy111, policy222)) {
      for (int i = 0; i + 2 < workers.size(); i++) {
        assertEquals(workers.get(i), workers.get(i + 2), "not a strict rotation: " + workers);
        assertNotEquals(workers.get(i), workers.get(i + 1), "repeated: " + workers);
      }
    }
    assertEquals(Set.of("100", "300"), new TreeSet<>(policy111));
    assertEquals(Set.of("200", "400"), new TreeSet<>(policy222));
  }

  @Test
  void samplePacketsVerifyThroughTheTcpBindingOnTheProxyNode() throws Exception {
    InetSocketAddress address =
        ProxyServer.bind(
                proxyNode.system(),
                router,
                proxyNode.spawn(LegacyRegistry.create(TestConfigs.legacySettings(), Set.of())),
                TestConfigs.proxySettings(Duration.ofSeconds(5)),
                TestConfigs.registrationSettings())
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS)
            .localAddress();
    ClientSettings settings =
        new ClientSettings(
            "127.0.0.1",
            address.getPort(),
            Duration.ofSeconds(20),
            Duration.ofSeconds(5),
            65536,
            Optional.empty());
    List<Exchange> exchanges =
        new ProxyClient(proxyNode.system(), settings)
            .send(PacketFile.load(List.of(Path.of("packets"))));
    Set<String> workers = new TreeSet<>();
    for (Exchange exchange : exchanges) {
      assertEquals(Exchange.Verdict.CORRECT, exchange.verdict(), exchange.sent().name());
      workers.add(exchange.workerId());
    }
    assertEquals(Set.of("100", "200", "300", "400"), workers);
  }
}
