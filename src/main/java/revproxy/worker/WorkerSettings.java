package revproxy.worker;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * A worker node's settings, read once from {@code revproxy.worker} (see application.conf).
 *
 * @param deregistrationGrace how long workers serve after leaving the rotation, before the node
 *     leaves
 * @param seedsLostTimeout how long the node may see no reachable seed before it restarts to join
 *     the seeds again
 * @param replacementWait how long a leave waits while this node holds a policy's last worker and
 *     another worker node is joining
 */
public record WorkerSettings(
    Duration deregistrationGrace, Duration seedsLostTimeout, Duration replacementWait) {

  public static WorkerSettings fromConfig(Config config) {
    Config worker = config.getConfig("revproxy.worker");
    return new WorkerSettings(
        worker.getDuration("deregistration-grace"),
        worker.getDuration("seeds-lost-timeout"),
        worker.getDuration("replacement-wait"));
  }
}
