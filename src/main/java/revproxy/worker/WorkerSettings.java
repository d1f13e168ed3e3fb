package revproxy.worker;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.Optional;
import revproxy.cluster.NodeConfig;

/**
 * A worker node's settings, read once from {@code revproxy.worker} (see reference.conf).
 *
 * @param deregistrationGrace how long workers serve after leaving the rotation, before the node
 *     leaves
 * @param seedsLostTimeout how long the node may see no reachable seed before it restarts to join
 *     the seeds again; empty on a node that bootstraps: a restarted proxy joins the cluster the
 *     worker nodes are in, and a worker node that left it to rejoin would find no cluster to join
 * @param replacementWait how long a leave waits while this node holds a policy's last worker and
 *     another worker node is joining, or while a policy's other listed workers do not answer
 */
public record WorkerSettings(
    Duration deregistrationGrace, Optional<Duration> seedsLostTimeout, Duration replacementWait) {

  public static WorkerSettings fromConfig(Config config) {
    Config worker = config.getConfig("revproxy.worker");
    return new WorkerSettings(
        worker.getDuration("deregistration-grace"),
        config.getBoolean(NodeConfig.BOOTSTRAP)
            ? Optional.empty()
            : Optional.of(worker.getDuration("seeds-lost-timeout")),
        worker.getDuration("replacement-wait"));
  }
}
