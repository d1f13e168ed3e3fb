package revproxy.node;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorSystem;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import revproxy.TestSockets;
import revproxy.cluster.NodeConfig;
import revproxy.protocol.PayloadHash;
import revproxy.worker.WorkerSpec;

/**
 * Cluster Bootstrap with config discovery: a proxy and a worker node, no seed nodes, find each
 * other through their management endpoints and form one cluster, as scripts/hosts.sh --bootstrap
 * does on three hosts.
 */
class NodeBootstrapTest {

  /** A node as its command builds it, bootstrapping from the two management endpoints. */
  private static Config node(String role, int managementPort, List<Integer> managementPorts) {
    List<Map<String, Object>> endpoints =
        managementPorts.stream()
            .map(port -> Map.<String, Object>of("host", "127.0.0.1", "port", port))
            .toList();
    return NodeConfig.create()
        .roles(role)
        .clusterPort(0, "revproxy." + role + ".cluster-port")
        .management(managementPort, "127.0.0.1", "revproxy." + role + ".management-port")
        .set(NodeConfig.BOOTSTRAP, true)
        .set("akka.discovery.method", "config")
        .set("akka.discovery.config.services." + NodeConfig.SYSTEM_NAME + ".endpoints", endpoints)
        // One host, two ports: keep both contact points (bootstrap keeps one port per host).
        .set("akka.management.cluster.bootstrap.contact-point.filter-on-fallback-port", false)
        // Config discovery never changes: no need to wait 5 s for it to settle.
        .set("akka.management.cluster.bootstrap.contact-point-discovery.stable-margin", "1s")
        .set("revproxy.proxy.port", 0)
        .set("akka.cluster.jmx.multi-mbeans-in-same-jvm", true)
        .set("akka.loglevel", "WARNING")
        .build();
  }

  @Test
  void aProxyAndAWorkerNodeWithoutSeedsFormOneClusterAndServe() throws Exception {
    int proxyManagement = TestSockets.unusedPort();
    int workerManagement = TestSockets.unusedPort();
    List<Integer> contactPoints = List.of(proxyManagement, workerManagement);
    Config proxyConfig = node("proxy", proxyManagement, contactPoints);
    assertEquals(List.of(), proxyConfig.getStringList("akka.cluster.seed-nodes"));
    ActorSystem<NodeGuardian.Command> proxy =
        ActorSystem.create(
            NodeGuardian.create(proxyConfig, List.of()), NodeConfig.SYSTEM_NAME, proxyConfig);
    ActorTestKit proxyKit = ActorTestKit.create(proxy);
    Config workerConfig = node("worker", workerManagement, contactPoints);
    ActorSystem<NodeGuardian.Command> worker =
        ActorSystem.create(
            NodeGuardian.create(workerConfig, List.of(new WorkerSpec("100", "boot"))),
            NodeConfig.SYSTEM_NAME,
            workerConfig);
    ActorTestKit workerKit = ActorTestKit.create(worker);
    try {
      TestProbe<InetSocketAddress> address = proxyKit.createTestProbe();
      address.awaitAssert(
          Duration.ofSeconds(30),
          Duration.ofMillis(500),
          () -> {
            for (ActorSystem<?> system : List.of(proxy, worker)) {
              long up =
                  StreamSupport.stream(
                          Cluster.get(system).state().getMembers().spliterator(), false)
                      .filter(member -> member.status() == MemberStatus.up())
                      .count();
              assertEquals(2, up, system + " sees " + Cluster.get(system).state().getMembers());
            }
            return null;
          });
      proxy.tell(new NodeGuardian.GetProxyAddress(address.getRef()));
      InetSocketAddress client = address.receiveMessage(Duration.ofSeconds(10));
      address.awaitAssert(
          Duration.ofSeconds(10),
          Duration.ofMillis(200),
          () -> {
            try (Socket socket = TestSockets.connect(client)) {
              List<JsonNode> replies =
                  TestSockets.pipeline(socket, TestSockets.request("b1", "boot", "hello"));
              assertEquals("100", replies.get(0).path("srcid").asText(), replies.toString());
              assertEquals(PayloadHash.sha1Hex("hello"), replies.get(0).path("payload").asText());
            }
            return null;
          });
    } finally {
      workerKit.shutdownTestKit();
      proxyKit.shutdownTestKit();
    }
  }
}
