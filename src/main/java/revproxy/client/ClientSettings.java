package revproxy.client;

import com.typesafe.config.Config;
import java.time.Duration;

/** The client's settings, read once from {@code revproxy.client} (see application.conf). */
public record ClientSettings(
    String host, int port, Duration timeout, Duration readinessWait, int maxReplyBytes) {

  public static ClientSettings fromConfig(Config config) {
    Config client = config.getConfig("revproxy.client");
    return new ClientSettings(
        client.getString("host"),
        client.getInt("port"),
        client.getDuration("timeout"),
        client.getDuration("readiness-wait"),
        client.getInt("max-reply-bytes"));
  }

  public ClientSettings withAddress(String newHost, int newPort) {
    return new ClientSettings(newHost, newPort, timeout, readinessWait, maxReplyBytes);
  }
}
