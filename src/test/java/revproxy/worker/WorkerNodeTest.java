package revproxy.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.CoordinatedShutdown;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import revproxy.TestConfigs;
import revproxy.cluster.NodeConfig;

/** A worker node alone in its cluster: what it does when no proxy is there. */
class WorkerNodeTest {

  private static Config workerNode(boolean bootstrap) {
    return ConfigFactory.parseString(
            "revproxy.worker.seeds-lost-timeout = 1s\n" + NodeConfig.BOOTSTRAP + " = " + bootstrap)
        .withFallback(TestConfigs.clusterNode("worker"));
  }

  /** A worker node alone in its cluster, Up, with its settings read from {@code config}. */
  private static ActorTestKit startAlone(Config config) {
    ActorTestKit kit = ActorTestKit.create(NodeConfig.SYSTEM_NAME, config);
    kit.spawn(
        WorkerNode.create(
            List.of(new WorkerSpec("100", "alone")), WorkerSettings.fromConfig(config)),
        "workers");
    Cluster cluster = Cluster.get(kit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    return kit;
  }

  @Test
  void aWorkerNodeWithoutAProxyDownsItselfAfterProxyLostTimeout() throws Exception {
    ActorTestKit kit = startAlone(workerNode(false));
    try {
      kit.system().getWhenTerminated().toCompletableFuture().get(20, TimeUnit.SECONDS);
      assertEquals(
          Optional.of(CoordinatedShutdown.clusterDowningReason()),
          CoordinatedShutdown.get(kit.system()).getShutdownReason());
    } finally {
      kit.shutdownTestKit();
    }
  }

  @Test
  void aBootstrappingWorkerNodeStaysInItsClusterWithoutAProxy() throws Exception {
    ActorTestKit kit = startAlone(workerNode(true));
    try {
      Cluster cluster = Cluster.get(kit.system());
      kit.createTestProbe()
          .awaitAssert(
              Duration.ofSeconds(20),
              () -> {
                assertEquals(MemberStatus.up(), cluster.selfMember().status());
                return null;
              });
      // Four times seeds-lost-timeout: a node that watched for the proxy would have gone.
      Thread.sleep(4_000);
      assertEquals(MemberStatus.up(), cluster.selfMember().status());
      assertFalse(kit.system().getWhenTerminated().toCompletableFuture().isDone());
    } finally {
      kit.shutdownTestKit();
    }
  }

  @Test
  void aProxyWithLocalWorkersStaysInItsClusterWithoutOtherSeeds() throws Exception {
    ActorTestKit kit =
        startAlone(
            ConfigFactory.parseString("revproxy.worker.seeds-lost-timeout = 1s")
                .withFallback(TestConfigs.clusterNode("proxy, worker")));
    try {
      Cluster cluster = Cluster.get(kit.system());
      kit.createTestProbe()
          .awaitAssert(
              Duration.ofSeconds(20),
              () -> {
                assertEquals(MemberStatus.up(), cluster.selfMember().status());
                return null;
              });
      // Four times seeds-lost-timeout: a proxy that watched for another proxy would have gone.
      Thread.sleep(4_000);
      assertEquals(MemberStatus.up(), cluster.selfMember().status());
      assertFalse(kit.system().getWhenTerminated().toCompletableFuture().isDone());
    } finally {
      kit.shutdownTestKit();
    }
  }

  @Test
  void bootstrapTurnsTheSeedWatchOff() {
    assertTrue(WorkerSettings.fromConfig(workerNode(true)).seedsLostTimeout().isEmpty());
    assertEquals(
        Duration.ofSeconds(1),
        WorkerSettings.fromConfig(workerNode(false)).seedsLostTimeout().orElseThrow());
  }
}
