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
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import revproxy.TestConfigs;
import revproxy.TestSockets;
import revproxy.node.NodeGuardian;
import revproxy.proxy.RouterActor;
import revproxy.routee.Routee;
import revproxy.worker.WorkerSpec;

/**
 * The rolling restart of the reliability review, in one JVM: under steady load, worker node B
 * crashes; 3 s later B' starts (the crashed B is unreachable: no node can become Up), and 2 s after
 * that node A is told to leave gracefully. B' must serve from WeaklyUp within 5 s of its start; A
 * waits until the Split Brain Resolver has downed B before it leaves the cluster: every request is
 * answered, and no node is downed but B.
 */
class RollingRestartTest {

  private static final Config CRASHES =
      ConfigFactory.parseString(
          "akka.coordinated-shutdown.run-by-actor-system-terminate = off\n"
              + "akka.coordinated-shutdown.terminate-actor-system = off");

  private static final Config GRACE =
      ConfigFactory.parseString("revproxy.worker.deregistration-grace = 1s");

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

  /** A worker node as the `worker` role runs it: the node guardian, with one worker. */
  private ActorTestKit workerNode(String worker, Address seed, Config extra) {
    ActorTestKit node = node("worker", extra.withFallback(GRACE));
    node.spawn(
        NodeGuardian.create(
            node.system().settings().config(), List.of(new WorkerSpec(worker, "roll"))),
        "node");
    Cluster.get(node.system()).manager().tell(Join.create(seed));
    return node;
  }

  /** Polls {@code node}'s receptionist until {@code worker}'s routee is listed; returns when. */
  private static long awaitListed(ActorTestKit node, String path, Duration max) {
    TestProbe<Receptionist.Listing> probe = node.createTestProbe();
    long start = System.nanoTime();
    probe.awaitAssert(
        max,
        Duration.ofMillis(50),
        () -> {
          node.system()
              .receptionist()
              .tell(Receptionist.find(Routee.serviceKey("roll"), probe.getRef()));
          boolean listed =
              probe.receiveMessage().getServiceInstances(Routee.serviceKey("roll")).stream()
                  .anyMatch(ref -> ref.path().toString().contains(path));
          assertTrue(listed, path + " not listed yet");
          return null;
        });
    return System.nanoTime() - start;
  }

  private static Config port(int port) {
    return ConfigFactory.parseString("akka.remote.artery.canonical.port = " + port);
  }

  @Test
  void aCrashRestartAndAGracefulLeaveUnderLoadCostNoRequest() throws Exception {
    // B's address sorts before the proxy's: were A to leave while B is unreachable, the Split
    // Brain Resolver's rule for membership changes would see 1 against 1, keep the side of the
    // lowest address (B's), and so down every node.
    int low = TestSockets.unusedPort();
    int high = TestSockets.unusedPort();
    ActorTestKit proxy = node("proxy", port(Math.max(low, high)));
    Address seed = Cluster.get(proxy.system()).selfMember().address();
    Cluster.get(proxy.system()).manager().tell(Join.create(seed));
    ActorTestKit a = workerNode("a1", seed, ConfigFactory.empty());
    ActorTestKit b = workerNode("b1", seed, port(Math.min(low, high)).withFallback(CRASHES));
    TestProbe<Void> waiter = proxy.createTestProbe();
    waiter.awaitAssert(
        Duration.ofSeconds(30),
        () -> {
          for (ActorTestKit node : List.of(proxy, a, b)) {
            assertEquals(MemberStatus.up(), Cluster.get(node.system()).selfMember().status());
          }
          return null;
        });
    awaitListed(proxy, "a1", Duration.ofSeconds(10));
    awaitListed(proxy, "b1", Duration.ofSeconds(10));
    ActorRef<RouterActor.Command> router =
        proxy.spawn(
            RouterActor.create(
                TestConfigs.proxySettings(
                    Duration.ofSeconds(10), Duration.ofMillis(500), 65536, 10)));

    TestProbe<RouterActor.Reply> client = proxy.createTestProbe();
    List<String> problems = new ArrayList<>();
    Map<String, Integer> servedAtTheEnd = new TreeMap<>();
    long start = System.nanoTime();
    long restartedAt = 0;
    long restartListedAfter = -1;
    ActorTestKit restarted = null;
    boolean killed = false;
    boolean left = false;
    for (int batch = 0; System.nanoTime() - start < Duration.ofSeconds(24).toNanos(); batch++) {
      long elapsed = System.nanoTime() - start;
      if (!killed && elapsed > Duration.ofSeconds(1).toNanos()) {
        b.system().terminate(); // no goodbye: as kill -9
        killed = true;
      }
      if (restarted == null && elapsed > Duration.ofSeconds(4).toNanos()) {
        restartedAt = System.nanoTime();
        restarted = workerNode("b2", seed, ConfigFactory.empty());
      }
      if (restarted != null && restartListedAfter < 0) {
        TestProbe<Receptionist.Listing> probe = proxy.createTestProbe();
        proxy
            .system()
            .receptionist()
            .tell(Receptionist.find(Routee.serviceKey("roll"), probe.getRef()));
        if (probe.receiveMessage().getServiceInstances(Routee.serviceKey("roll")).stream()
            .anyMatch(ref -> ref.path().toString().contains("b2"))) {
          restartListedAfter = System.nanoTime() - restartedAt;
        }
      }
      if (!left && elapsed > Duration.ofSeconds(6).toNanos()) {
        a.system().terminate(); // a graceful leave: deregister, grace, leave
        left = true;
      }
      for (int i = 0; i < 10; i++) {
        router.tell(new RouterActor.Route("c", "roll", "p" + batch + "-" + i, client.getRef()));
      }
      for (RouterActor.Reply reply : client.receiveSeveralMessages(10, Duration.ofSeconds(15))) {
        if (reply instanceof RouterActor.Served served) {
          if (System.nanoTime() - start > Duration.ofSeconds(22).toNanos()) {
            servedAtTheEnd.merge(served.workerId(), 1, Integer::sum);
          }
        } else if (problems.size() < 10) {
          problems.add(String.format("%.1f s: %s", elapsed / 1e9, reply));
        }
      }
      Thread.sleep(20);
    }
    assertEquals(List.of(), problems, "requests without a correct answer");
    assertEquals(
        MemberStatus.up(),
        Cluster.get(proxy.system()).selfMember().status(),
        "the proxy was not downed");
    assertTrue(
        restartListedAfter >= 0 && restartListedAfter < Duration.ofSeconds(5).toNanos(),
        "the restarted node's worker was listed after " + restartListedAfter / 1_000_000 + " ms");
    assertEquals(List.of("b2"), List.copyOf(servedAtTheEnd.keySet()), "serving at the end");
  }
}
