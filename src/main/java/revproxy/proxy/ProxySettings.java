package revproxy.proxy;

import com.typesafe.config.Config;
import java.time.Duration;

/** The proxy's settings, read once from {@code revproxy.proxy} (see application.conf). */
public record ProxySettings(
    String host,
    int port,
    Duration requestTimeout,
    Duration attemptTimeout,
    int maxAttempts,
    int maxInFlightPerConnection,
    int maxPacketBytes,
    int maxPolicies,
    Duration forgetPolicyAfter,
    int maxConnections,
    Duration idleTimeout,
    Duration packetTimeout,
    int ejectAfterFailures,
    Duration ejectionTime,
    Duration statsInterval) {

  public static ProxySettings fromConfig(Config config) {
    Config proxy = config.getConfig("revproxy.proxy");
    return new ProxySettings(
        proxy.getString("host"),
        proxy.getInt("port"),
        proxy.getDuration("request-timeout"),
        proxy.getDuration("attempt-timeout"),
        positive(proxy, "max-attempts"),
        positive(proxy, "max-in-flight-per-connection"),
        positive(proxy, "max-packet-bytes"),
        positive(proxy, "max-policies"),
        proxy.getDuration("forget-policy-after"),
        positive(proxy, "max-connections"),
        proxy.getDuration("idle-timeout"),
        proxy.getDuration("packet-timeout"),
        positive(proxy, "eject-after-failures"),
        proxy.getDuration("ejection-time"),
        proxy.getDuration("stats-interval"));
  }

  private static int positive(Config config, String path) {
    int value = config.getInt(path);
    if (value < 1) {
      throw new IllegalArgumentException("revproxy.proxy." + path + " must be at least 1");
    }
    return value;
  }
}
