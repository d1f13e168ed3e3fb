package revproxy.worker;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.Optional;
import revproxy.cluster.NodeConfig;

/**
 * A worker node's settings, read once from {@code revproxy.worker} (see application.conf). {@code
 * proxyLostTimeout} is empty on a node that bootstraps: a restarted proxy joins the cluster the
 * worker nodes are in, and a worker node that left it to rejoin would find no cluster to join.
 */
public record WorkerSettings(Duration deregistrationGrace, Optional<Duration> proxyLostTimeout) {

  public static WorkerSettings fromConfig(Config config) {
    Config worker = config.getConfig("revproxy.worker");
    return new WorkerSettings(
        worker.getDuration("deregistration-grace"),
        config.getBoolean(NodeConfig.BOOTSTRAP)
            ? Optional.empty()
            : Optional.of(worker.getDuration("proxy-lost-timeout")));
  }
}
