package revproxy.node;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.receptionist.Receptionist;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import revproxy.TestConfigs;
import revproxy.TestSockets;
import revproxy.cluster.NodeConfig;
import revproxy.protocol.PayloadHash;
import revproxy.routee.Routee;
import revproxy.worker.WorkerSpec;

class NodeGuardianTest {

  private static Config node(String roles) {
    return ConfigFactory.parseString(
            "akka.cluster.roles = [" + roles + "]\nrevproxy.proxy.port = 0\n")
        .withFallback(TestConfigs.clusterNode("proxy"));
  }

  @Test
  void aProxyWithLocalWorkersRunsThemAsItsWorkerNodeChildAndServesThem() throws Exception {
    Config config = node("proxy, worker");
    ActorSystem<NodeGuardian.Command> system =
        ActorSystem.create(
            NodeGuardian.create(config, List.of(new WorkerSpec("100", "local"))),
            NodeConfig.SYSTEM_NAME,
            config);
    ActorTestKit kit = ActorTestKit.create(system);
    try {
      Cluster.get(system).manager().tell(Join.create(Cluster.get(system).selfMember().address()));
      TestProbe<InetSocketAddress> address = kit.createTestProbe();
      system.tell(new NodeGuardian.GetProxyAddress(address.getRef()));
      InetSocketAddress proxy = address.receiveMessage(Duration.ofSeconds(20));

      // The local worker is an ordinary worker of the node's WorkerNode, not a /system actor.
      TestProbe<Receptionist.Listing> listing = kit.createTestProbe();
      listing.awaitAssert(
          Duration.ofSeconds(10),
          () -> {
            system
                .receptionist()
                .tell(Receptionist.find(Routee.serviceKey("local"), listing.getRef()));
            var routees = listing.receiveMessage().getServiceInstances(Routee.serviceKey("local"));
            assertEquals(1, routees.size());
            assertEquals(
                "/user/workers/worker-100",
                routees.iterator().next().path().toStringWithoutAddress());
            return null;
          });
      try (Socket socket = TestSockets.connect(proxy)) {
        List<JsonNode> replies =
            TestSockets.pipeline(socket, TestSockets.request("c1", "local", "hello"));
        assertEquals(1, replies.size(), replies.toString());
        assertEquals("100", replies.get(0).get("srcid").asText());
        assertEquals(PayloadHash.sha1Hex("hello"), replies.get(0).get("payload").asText());
      }
    } finally {
      kit.shutdownTestKit();
    }
  }

  @Test
  void aProxyThatCannotBindItsPortStopsTheNode() throws Exception {
    try (java.net.ServerSocket taken =
        new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      Config config =
          ConfigFactory.parseString("revproxy.proxy.port = " + taken.getLocalPort())
              .withFallback(node("proxy"));
      ActorSystem<NodeGuardian.Command> system =
          ActorSystem.create(
              NodeGuardian.create(config, List.of()), NodeConfig.SYSTEM_NAME, config);
      Cluster.get(system).manager().tell(Join.create(Cluster.get(system).selfMember().address()));
      system
          .getWhenTerminated()
          .toCompletableFuture()
          .get(30, java.util.concurrent.TimeUnit.SECONDS);
    }
  }
}
