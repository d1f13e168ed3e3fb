package revproxy.worker;

import com.typesafe.config.Config;
import java.time.Duration;

/** A worker node's settings, read once from {@code revproxy.worker} (see reference.conf). */
public record WorkerSettings(Duration deregistrationGrace, Duration proxyLostTimeout) {

  public static WorkerSettings fromConfig(Config config) {
    Config worker = config.getConfig("revproxy.worker");
    return new WorkerSettings(
        worker.getDuration("deregistration-grace"), worker.getDuration("proxy-lost-timeout"));
  }
}
