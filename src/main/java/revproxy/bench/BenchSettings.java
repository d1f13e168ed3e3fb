package revproxy.bench;

import com.typesafe.config.Config;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import revproxy.protocol.Packet;
import revproxy.tls.TlsDir;
import revproxy.util.Ports;

/**
 * One load-generator run, read once from {@code revproxy.bench} (see reference.conf).
 *
 * @param proxies when not empty, the proxies to load instead of {@code host:port}, with failover:
 *     the connections are spread over them, and one that fails or breaks reconnects to the next and
 *     resends its requests that had no reply yet (hashing is idempotent)
 * @param requests when positive, send exactly this many requests after the warmup instead of
 *     running for {@code duration}
 * @param rate requests per second over all connections (open loop); 0 = closed loop, each
 *     connection keeps {@code pipeline} requests in flight
 * @param timeout a reply later than this is a timeout; also how long in-flight requests may drain
 * @param threads selector threads the connections are spread over
 * @param idleConnections extra connections that are opened, then send nothing
 * @param tls when present, every connection speaks TLS, as the client does with this directory
 */
public record BenchSettings(
    String host,
    int port,
    List<InetSocketAddress> proxies,
    int connections,
    int pipeline,
    Duration duration,
    long requests,
    double rate,
    int payloadBytes,
    List<String> policies,
    Duration warmup,
    Duration timeout,
    Duration connectTimeout,
    int threads,
    int idleConnections,
    Optional<TlsDir> tls) {

  /** Largest payload: a request must stay under the proxy's default max-packet-bytes (64 KiB). */
  public static final int MAX_PAYLOAD_BYTES = 60_000;

  public BenchSettings {
    policies = List.copyOf(policies);
    proxies = List.copyOf(proxies);
    check(port >= 1 && port <= Ports.MAX, "revproxy.bench.port: " + Ports.notAPort(port, 1));
    check(connections >= 0, "--connections must not be negative, got " + connections);
    check(
        connections > 0 || (idleConnections > 0 && requests == 0),
        "--connections must be at least 1 (0 only with --idle-connections and --duration)");
    check(pipeline >= 1 && pipeline <= 4096, "--pipeline must be 1-4096, got " + pipeline);
    check(requests >= 0, "--requests must not be negative, got " + requests);
    check(
        !duration.isNegative() && (requests > 0 || !duration.isZero()),
        "--duration must be positive, got " + duration);
    check(rate >= 0 && !Double.isNaN(rate) && !Double.isInfinite(rate), "--rate must be >= 0");
    check(
        payloadBytes >= 1 && payloadBytes <= MAX_PAYLOAD_BYTES,
        "--payload-bytes must be 1-" + MAX_PAYLOAD_BYTES + ", got " + payloadBytes);
    check(!policies.isEmpty(), "--policies needs at least one policy id");
    for (String policy : policies) {
      check(
          Packet.NAME.matcher(policy).matches(),
          "a policy id is 1-64 characters of A-Z a-z 0-9 . _ -, got \"" + policy + "\"");
    }
    check(!warmup.isNegative(), "--warmup must not be negative, got " + warmup);
    check(!timeout.isNegative() && !timeout.isZero(), "--timeout must be positive");
    check(
        !connectTimeout.isNegative() && !connectTimeout.isZero(),
        "revproxy.bench.connect-timeout must be positive");
    check(threads >= 1 && threads <= 64, "--threads must be 1-64, got " + threads);
    check(idleConnections >= 0, "--idle-connections must not be negative");
  }

  public static BenchSettings fromConfig(Config config) {
    Config bench = config.getConfig("revproxy.bench");
    int connections = bench.getInt("connections");
    String tls = bench.getString("tls");
    return new BenchSettings(
        bench.getString("host"),
        bench.getInt("port"),
        Ports.hostPorts(config, "revproxy.bench.proxies"),
        connections,
        bench.getInt("pipeline"),
        bench.getDuration("duration"),
        bench.getLong("requests"),
        bench.getDouble("rate"),
        bench.getInt("payload-bytes"),
        bench.getStringList("policies"),
        bench.getDuration("warmup"),
        bench.getDuration("timeout"),
        bench.getDuration("connect-timeout"),
        // More threads than connections would have nothing to do.
        Math.min(bench.getInt("threads"), Math.max(connections, 1)),
        bench.getInt("idle-connections"),
        tls.isEmpty() ? Optional.empty() : Optional.of(TlsDir.load(Path.of(tls))));
  }

  /** Where the connections go: the proxies, or the one {@code host:port}. */
  public List<InetSocketAddress> targets() {
    return failover() ? proxies : List.of(InetSocketAddress.createUnresolved(host, port));
  }

  /** With {@code --proxy}: broken connections fail over and resend, instead of losing requests. */
  public boolean failover() {
    return !proxies.isEmpty();
  }

  /** The targets as written: {@code host:port}, comma-separated. */
  public String targetNames() {
    StringBuilder names = new StringBuilder();
    for (InetSocketAddress target : targets()) {
      names.append(names.length() > 0 ? "," : "").append(name(target));
    }
    return names.toString();
  }

  static String name(InetSocketAddress target) {
    return target.getHostString() + ":" + target.getPort();
  }

  public boolean openLoop() {
    return rate > 0;
  }

  public boolean byRequestCount() {
    return requests > 0;
  }

  private static void check(boolean condition, String message) {
    if (!condition) {
      throw new IllegalArgumentException(message);
    }
  }
}
