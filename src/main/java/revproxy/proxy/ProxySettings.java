package revproxy.proxy;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import revproxy.tls.TlsDir;
import revproxy.util.Ports;

/**
 * The proxy's settings, read once from {@code revproxy.proxy} (see reference.conf). The routing
 * timeouts are checked here, in one place: one attempt fits in the request's deadline, and the
 * connection stage's ask ({@link #askTimeout()}) outlasts both, so the router's own {@code timeout}
 * answer always comes first.
 *
 * @param noWorkerGrace how long the requests of a policy that has just lost its last routee wait
 *     for one to be listed, before they get {@code no_worker_for_policy}
 * @param clientTls when present, the client port speaks TLS with this directory's key
 * @param requireClientAuth with {@code clientTls}: only clients showing a certificate of its CA are
 *     served
 * @param accessLog one line per closed client connection on the logger {@code revproxy.access}
 */
public record ProxySettings(
    String host,
    int port,
    Duration requestTimeout,
    Duration attemptTimeout,
    int maxAttempts,
    Duration noWorkerGrace,
    int maxInFlightPerConnection,
    int maxPacketBytes,
    int maxPolicies,
    Duration forgetPolicyAfter,
    int maxConnections,
    Duration idleTimeout,
    Duration packetTimeout,
    OutlierSettings outlier,
    RemoteBatch remoteBatch,
    Optional<TlsDir> clientTls,
    boolean requireClientAuth,
    boolean accessLog) {

  /**
   * How attempts for routees on other nodes are batched ({@link Outbox}): at most {@code
   * maxRequests} requests and {@code maxChars} characters of srcids and payloads per remote
   * message; {@code maxRequests} 1 sends one message per request.
   */
  public record RemoteBatch(int maxRequests, int maxChars) {
    static RemoteBatch fromConfig(Config proxy) {
      return new RemoteBatch(
          positive(proxy, "remote-batch.max-requests"), positive(proxy, "remote-batch.max-chars"));
    }
  }

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
    if (noWorkerGrace.isNegative() || noWorkerGrace.compareTo(requestTimeout) > 0) {
      throw new IllegalArgumentException(
          "revproxy.proxy.no-worker-grace ("
              + noWorkerGrace.toMillis()
              + " ms) must be between 0 and revproxy.proxy.request-timeout ("
              + requestTimeout.toMillis()
              + " ms)");
    }
    if (requireClientAuth && clientTls.isEmpty()) {
      throw new IllegalArgumentException(
          "revproxy.proxy.require-client-auth (--require-client-auth) needs client-tls"
              + " (--client-tls DIR)");
    }
  }

  /** The connection stage's wait for the router's answer: always past {@code request-timeout}. */
  public Duration askTimeout() {
    return requestTimeout.plus(ASK_MARGIN);
  }

  /** These settings with another outlier detection. */
  public ProxySettings withOutlier(OutlierSettings newOutlier) {
    return new ProxySettings(
        host,
        port,
        requestTimeout,
        attemptTimeout,
        maxAttempts,
        noWorkerGrace,
        maxInFlightPerConnection,
        maxPacketBytes,
        maxPolicies,
        forgetPolicyAfter,
        maxConnections,
        idleTimeout,
        packetTimeout,
        newOutlier,
        remoteBatch,
        clientTls,
        requireClientAuth,
        accessLog);
  }

  /** These settings with another batching of remote attempts. */
  public ProxySettings withRemoteBatch(RemoteBatch newRemoteBatch) {
    return new ProxySettings(
        host,
        port,
        requestTimeout,
        attemptTimeout,
        maxAttempts,
        noWorkerGrace,
        maxInFlightPerConnection,
        maxPacketBytes,
        maxPolicies,
        forgetPolicyAfter,
        maxConnections,
        idleTimeout,
        packetTimeout,
        outlier,
        newRemoteBatch,
        clientTls,
        requireClientAuth,
        accessLog);
  }

  public static ProxySettings fromConfig(Config config) {
    Config proxy = config.getConfig("revproxy.proxy");
    String clientTls = proxy.getString("client-tls");
    return new ProxySettings(
        proxy.getString("host"),
        Ports.fromConfig(config, "revproxy.proxy.port", 0),
        proxy.getDuration("request-timeout"),
        proxy.getDuration("attempt-timeout"),
        positive(proxy, "max-attempts"),
        proxy.getDuration("no-worker-grace"),
        positive(proxy, "max-in-flight-per-connection"),
        positive(proxy, "max-packet-bytes"),
        positive(proxy, "max-policies"),
        proxy.getDuration("forget-policy-after"),
        positive(proxy, "max-connections"),
        proxy.getDuration("idle-timeout"),
        proxy.getDuration("packet-timeout"),
        OutlierSettings.fromConfig(proxy),
        RemoteBatch.fromConfig(proxy),
        clientTls.isEmpty()
            ? Optional.empty()
            : Optional.of(TlsDir.load(Path.of(clientTls)).requireKey()),
        proxy.getBoolean("require-client-auth"),
        proxy.getBoolean("access-log"));
  }

  private static int positive(Config config, String path) {
    int value = config.getInt(path);
    if (value < 1) {
      throw new IllegalArgumentException("revproxy.proxy." + path + " must be at least 1");
    }
    return value;
  }
}
