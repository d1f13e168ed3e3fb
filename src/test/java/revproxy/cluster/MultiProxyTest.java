package revproxy.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.Address;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorSystem;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.JoinSeedNodes;
import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import revproxy.TestConfigs;
import revproxy.TestSockets;
import revproxy.node.NodeGuardian;
import revproxy.protocol.PayloadHash;
import revproxy.worker.WorkerSpec;

/**
 * Two proxies, both seeds, and a worker node: kill -9 of one proxy costs the other's clients
 * nothing and the worker keeps serving; the killed proxy, restarted on the same ports, serves again
 * within 5 s of its start.
 */
class MultiProxyTest {

  private static final Config CRASHES =
      ConfigFactory.parseString(
          "akka.coordinated-shutdown.run-by-actor-system-terminate = off\n"
              + "akka.coordinated-shutdown.terminate-actor-system = off");

  private final List<ActorTestKit> nodes = new ArrayList<>();

  @AfterEach
  void shutdown() {
    for (int i = nodes.size() - 1; i >= 0; i--) {
      nodes.get(i).shutdownTestKit();
    }
  }

  /** A node as the commands run it: the node guardian is the system's guardian. */
  private ActorTestKit node(
      String roles, int clusterPort, int clientPort, List<WorkerSpec> workers, Config extra) {
    Config config =
        extra
            .withFallback(
                ConfigFactory.parseString(
                    "akka.cluster.roles = ["
                        + roles
                        + "]\n"
                        + "akka.remote.artery.canonical.port = "
                        + clusterPort
                        + "\n"
                        + "revproxy.proxy.port = "
                        + clientPort))
            .withFallback(TestConfigs.clusterNode("proxy"));
    ActorSystem<NodeGuardian.Command> system =
        ActorSystem.create(NodeGuardian.create(config, workers), NodeConfig.SYSTEM_NAME, config);
    ActorTestKit kit = ActorTestKit.create(system);
    nodes.add(kit);
    return kit;
  }

  private static void joinSeeds(ActorTestKit node, List<Address> seeds) {
    Cluster.get(node.system()).manager().tell(new JoinSeedNodes(seeds));
  }

  @SuppressWarnings("unchecked")
  private static InetSocketAddress listening(ActorTestKit proxy, Duration within) {
    TestProbe<InetSocketAddress> probe = proxy.createTestProbe();
    ((ActorSystem<NodeGuardian.Command>) (ActorSystem<?>) proxy.system())
        .tell(new NodeGuardian.GetProxyAddress(probe.getRef()));
    return probe.receiveMessage(within);
  }

  /** {@code count} requests on one connection; every reply must be the payload's correct hash. */
  private static void assertServed(InetSocketAddress proxy, String tag, int count)
      throws Exception {
    StringBuilder requests = new StringBuilder();
    for (int i = 0; i < count; i++) {
      requests.append(TestSockets.request(tag + i, "many", tag + "-" + i));
    }
    try (Socket socket = TestSockets.connect(proxy)) {
      List<JsonNode> replies = TestSockets.pipeline(socket, requests.toString());
      assertEquals(count, replies.size(), tag);
      for (int i = 0; i < count; i++) {
        assertEquals("2", replies.get(i).get("type").asText(), replies.get(i).toString());
        assertEquals(PayloadHash.sha1Hex(tag + "-" + i), replies.get(i).get("payload").asText());
      }
    }
  }

  @Test
  void killingOneProxyCostsTheOthersClientsNothingAndItsRestartIsRecognisedAtOnce()
      throws Exception {
    int p1Cluster = TestSockets.unusedPort();
    int p2Cluster = TestSockets.unusedPort();
    int p1Client = TestSockets.unusedPort();
    List<Address> seeds =
        List.of(
            new Address("akka", NodeConfig.SYSTEM_NAME, "127.0.0.1", p1Cluster),
            new Address("akka", NodeConfig.SYSTEM_NAME, "127.0.0.1", p2Cluster));
    ActorTestKit p1 = node("proxy", p1Cluster, p1Client, List.of(), CRASHES);
    ActorTestKit p2 = node("proxy", p2Cluster, 0, List.of(), ConfigFactory.empty());
    ActorTestKit worker =
        node(
            "worker",
            0,
            0,
            List.of(new WorkerSpec("w1", "many"), new WorkerSpec("w2", "many")),
            ConfigFactory.empty());
    for (ActorTestKit node : nodes) {
      joinSeeds(node, seeds);
    }
    InetSocketAddress first = listening(p1, Duration.ofSeconds(30));
    InetSocketAddress second = listening(p2, Duration.ofSeconds(30));
    TestProbe<Void> waiter = p2.createTestProbe();
    waiter.awaitAssert(
        Duration.ofSeconds(30),
        Duration.ofMillis(200),
        () -> {
          try {
            assertServed(first, "a", 4);
            assertServed(second, "b", 4);
          } catch (Exception e) {
            throw new AssertionError(e);
          }
          return null;
        });

    // Three members Up, as every node sees them, before the kill: a member still Joining or
    // WeaklyUp does not count for the Split Brain Resolver, which would then see a tie.
    waiter.awaitAssert(
        Duration.ofSeconds(30),
        Duration.ofMillis(200),
        () -> {
          for (ActorTestKit node : List.of(p1, p2, worker)) {
            List<MemberStatus> statuses = new ArrayList<>();
            Cluster.get(node.system()).state().getMembers().forEach(m -> statuses.add(m.status()));
            assertEquals(
                List.of(MemberStatus.up(), MemberStatus.up(), MemberStatus.up()), statuses);
          }
          return null;
        });
    p1.system().terminate(); // no goodbye: as kill -9
    p1.system().getWhenTerminated().toCompletableFuture().get();
    // The other proxy's clients see nothing of it, while the cluster notices and for seconds
    // after; the worker node keeps serving (a seed is still reachable).
    long end = System.nanoTime() + Duration.ofSeconds(8).toNanos();
    int rounds = 0;
    while (System.nanoTime() < end) {
      assertServed(second, "during-" + rounds++, 20);
      Thread.sleep(50);
    }
    assertEquals(MemberStatus.up(), Cluster.get(worker.system()).selfMember().status());

    long restart = System.nanoTime();
    ActorTestKit again = node("proxy", p1Cluster, p1Client, List.of(), ConfigFactory.empty());
    joinSeeds(again, seeds);
    InetSocketAddress restarted = listening(again, Duration.ofSeconds(10));
    long listeningAfter = System.nanoTime() - restart;
    assertEquals(p1Client, restarted.getPort());
    waiter.awaitAssert(
        Duration.ofSeconds(10),
        Duration.ofMillis(100),
        () -> {
          try {
            assertServed(restarted, "again", 4);
          } catch (Exception e) {
            throw new AssertionError(e);
          }
          return null;
        });
    long servingAfter = System.nanoTime() - restart;
    // Had the cluster not recognised the new incarnation on the same host and port, it could
    // join only once the Split Brain Resolver downed the old one: failure detection (2 s and
    // more) plus stable-after (7 s). Serving well before that shows the restart was recognised
    // at once. The 5 s goal itself is a timing figure, measured by scripts/chaos.sh, not here.
    assertTrue(
        servingAfter < Duration.ofSeconds(8).toNanos(),
        "listening after "
            + listeningAfter / 1_000_000
            + " ms, serving after "
            + servingAfter / 1_000_000
            + " ms");
    assertServed(second, "after", 20);
  }
}
