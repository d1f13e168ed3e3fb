package revproxy.proxy;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * The proxy's settings, read once from {@code revproxy.proxy} (see application.conf). The
 * routing timeouts are checked here, in one place: one attempt fits in the request's deadline,
 * and the connection stage's ask ({@link #askTimeout()}) outlasts both, so the router's own
 * {@code timeout} answer always comes first.
 */
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
    OutlierSettings outlier) {

  /** How much longer the connection stage waits for the router than the router for a worker. */
  static final Duration ASK_MARGIN = Duration.ofSeconds(1);

  public ProxySettings {
    if (attemptTimeout.compareTo(requestTimeout) > 0) {
      throw new IllegalArgumentException(
          "revproxy.proxy.attempt-timeout ("
              + attemptTimeout.toMillis()
              + " ms) must not exceed revproxy.proxy.request-timeout ("
              + requestTimeout.toMillis()
              + " ms)");
    }
    if (attemptTimeout.isNegative() || attemptTimeout.isZero()) {
      throw new IllegalArgumentException("revproxy.proxy.attempt-timeout must be positive");
    }
  }

  /** The connection stage's wait for the router's answer: always past {@code request-timeout}. */
  public Duration askTimeout() {
    return requestTimeout.plus(ASK_MARGIN);
  }

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
        OutlierSettings.fromConfig(proxy));
  }

  private static int positive(Config config, String path) {
    int value = config.getInt(path);
    if (value < 1) {
      throw new IllegalArgumentException("revproxy.proxy." + path + " must be at least 1");
    }
    return value;
  }
}
