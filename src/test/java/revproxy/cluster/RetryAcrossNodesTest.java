package revproxy.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.Address;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.receptionist.Receptionist;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import revproxy.Routees;
import revproxy.TestConfigs;
import revproxy.protocol.PayloadHash;
import revproxy.proxy.RouterActor;
import revproxy.routee.Routee;
import revproxy.worker.HashWorker;

/**
 * A node whose routees fall silent (a crashed or stopped JVM, before the cluster marks it
 * unreachable): a retry must go to another node whenever one has a routee, so no request waits for
 * two attempt timeouts on the same dead node.
 */
class RetryAcrossNodesTest {

  private final List<ActorTestKit> nodes = new ArrayList<>();

  @AfterEach
  void shutdown() {
    for (int i = nodes.size() - 1; i >= 0; i--) {
      nodes.get(i).shutdownTestKit();
    }
  }

  private ActorTestKit node(String role) {
    ActorTestKit kit = ActorTestKit.create(NodeConfig.SYSTEM_NAME, TestConfigs.clusterNode(role));
    nodes.add(kit);
    return kit;
  }

  @Test
  void aRetryAfterATimeoutOnASilentNodeGoesToTheOtherNode() {
    ActorTestKit proxy = node("proxy");
    ActorTestKit silentNode = node("worker");
    ActorTestKit liveNode = node("worker");
    Address seed = Cluster.get(proxy.system()).selfMember().address();
    for (ActorTestKit node : nodes) {
      Cluster.get(node.system()).manager().tell(Join.create(seed));
    }
    TestProbe<Void> waiter = proxy.createTestProbe();
    waiter.awaitAssert(
        Duration.ofSeconds(30),
        () -> {
          for (ActorTestKit node : nodes) {
            assertEquals(MemberStatus.up(), Cluster.get(node.system()).selfMember().status());
          }
          return null;
        });
    // Node 1: two routees that take requests and never answer. Node 2: two live workers.
    List<TestProbe<Routee.Command>> silent = new ArrayList<>();
    for (int i = 1; i <= 2; i++) {
      TestProbe<Routee.Command> probe = silentNode.createTestProbe("silent-" + i);
      silent.add(probe);
      silentNode
          .system()
          .receptionist()
          .tell(Receptionist.register(Routee.serviceKey("spread"), probe.getRef()));
    }
    liveNode.spawn(HashWorker.create("live-1", "spread"), "worker-live-1");
    liveNode.spawn(HashWorker.create("live-2", "spread"), "worker-live-2");
    Routees.await(proxy, "spread", 4);

    ActorRef<RouterActor.Command> router =
        proxy.spawn(
            RouterActor.create(
                TestConfigs.proxySettings(
                    Duration.ofSeconds(5), Duration.ofMillis(300), 65536, 10)));
    TestProbe<RouterActor.Reply> client = proxy.createTestProbe();
    for (int i = 0; i < 12; i++) {
      String payload = "request-" + i;
      router.tell(new RouterActor.Route("c" + i, "spread", payload, client.getRef()));
      RouterActor.Served served =
          client.expectMessageClass(RouterActor.Served.class, Duration.ofSeconds(5));
      assertEquals(PayloadHash.sha1Hex(payload), served.payloadHash());
      assertTrue(served.workerId().startsWith("live-"), served.toString());
      // At most one attempt of this request went to the silent node.
      int attemptsOnSilentNode = 0;
      for (TestProbe<Routee.Command> probe : silent) {
        attemptsOnSilentNode += drain(probe, "c" + i);
      }
      assertTrue(
          attemptsOnSilentNode <= 1,
          "request " + i + " was tried " + attemptsOnSilentNode + " times on the silent node");
    }
  }

  /** The attempts of request {@code srcid} the probe got (it may hold none). */
  private static int drain(TestProbe<Routee.Command> probe, String srcid) {
    int count = 0;
    while (true) {
      try {
        Routee.Hash hash = (Routee.Hash) probe.receiveMessage(Duration.ofMillis(20));
        assertEquals(srcid, hash.srcid());
        count++;
      } catch (AssertionError none) {
        if (none.getMessage() != null && none.getMessage().contains("expected")) {
          throw none;
        }
        return count;
      }
    }
  }
}
