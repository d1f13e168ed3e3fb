package revproxy.tls;

import akka.actor.ActorSystem;
import akka.actor.ExtendedActorSystem;
import akka.remote.artery.tcp.ConfigSSLEngineProvider;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mutual TLS between the nodes of a cluster: Artery's {@code tls-tcp} transport with the key and
 * the CA of the {@link TlsDir} named by {@code revproxy.cluster-tls}.
 *
 * <p>Akka's own provider does the handshakes; this one only takes the key and trust managers from
 * the directory, so the stores' password is read from its file and never sits in the configuration
 * (which a node may log) or on a command line (which {@code ps} shows).
 *
 * <p>A failed handshake is logged in one line that says why (a peer without TLS, or with a
 * certificate of another CA), once per reason and peer in {@link #QUIET_PERIOD}: a node that is
 * refused retries every few seconds, and each retry would otherwise be one more line, or none at
 * all, since Akka logs nothing when it refuses a connection.
 */
public final class ClusterTlsEngineProvider extends ConfigSSLEngineProvider {

  /** The path of the TLS directory; empty means plain TCP between nodes. */
  public static final String DIR_PATH = "revproxy.cluster-tls";

  /** After a handshake failure is logged, the same one is logged at DEBUG only, for this long. */
  static final Duration QUIET_PERIOD = Duration.ofMinutes(10);

  private static final Logger log = LoggerFactory.getLogger(ClusterTlsEngineProvider.class);

  private final ExtendedActorSystem system;
  private final TlsDir dir;

  /** When each line was last logged at WARN; guarded by this. */
  private final Map<String, Long> lastLogged = new HashMap<>();

  /** Called by Artery, once per actor system. */
  public ClusterTlsEngineProvider(ActorSystem system) {
    super(system);
    this.system = (ExtendedActorSystem) system;
    this.dir = TlsDir.load(Path.of(system.settings().config().getString(DIR_PATH))).requireKey();
  }

  /**
   * {@code config} with Artery switched to mutual TLS when {@code revproxy.cluster-tls} names a
   * directory; else {@code config} as it is. These settings win over any file: a node of a TLS
   * cluster cannot be configured into accepting peers without a certificate of the CA, or older
   * protocols. Only TLS 1.3 is enabled (Akka's provider enables exactly one protocol): every node
   * runs this program, so none needs 1.2.
   *
   * @throws IllegalArgumentException if the directory lacks a file a node needs
   */
  public static Config configure(Config config) {
    String dir = config.getString(DIR_PATH);
    if (dir.isEmpty()) {
      return config;
    }
    TlsDir.load(Path.of(dir)).requireKey();
    String engine = "akka.remote.artery.ssl.config-ssl-engine.";
    return ConfigFactory.parseMap(
            Map.of(
                "akka.remote.artery.transport",
                "tls-tcp",
                "akka.remote.artery.ssl.ssl-engine-provider",
                ClusterTlsEngineProvider.class.getName(),
                engine + "protocol",
                "TLSv1.3",
                // Akka's provider sets these suites on every engine: TLS 1.3's three.
                engine + "enabled-algorithms",
                List.of(
                    "TLS_AES_256_GCM_SHA384",
                    "TLS_AES_128_GCM_SHA256",
                    "TLS_CHACHA20_POLY1305_SHA256"),
                engine + "require-mutual-authentication",
                "on",
                // Each node checks that the peer's certificate names the address it dials.
                engine + "hostname-verification",
                "on"))
        .withFallback(config);
  }

  @Override
  public SSLEngine createServerSSLEngine(String hostname, int port) {
    return new TlsStageEngine(
        super.createServerSSLEngine(hostname, port),
        failure -> report("refused a connection", failure));
  }

  @Override
  public SSLEngine createClientSSLEngine(String hostname, int port) {
    return new TlsStageEngine(
        super.createClientSSLEngine(hostname, port),
        failure -> report("cannot connect to " + hostname + ":" + port, failure));
  }

  private synchronized void report(String what, SSLException failure) {
    // Known by now (the port may have been 0 when this provider was made): says which node it is.
    String node = "Cluster node " + system.provider().getDefaultAddress();
    String line = node + " " + what + ": " + reason(failure);
    long now = System.nanoTime();
    Long last = lastLogged.get(line);
    if (last == null || now - last > QUIET_PERIOD.toNanos()) {
      lastLogged.put(line, now);
      log.warn(
          "{} ({}); the same failure is logged at DEBUG for the next {} minutes",
          line,
          failure.getMessage(),
          QUIET_PERIOD.toMinutes());
    } else {
      log.debug("{} ({})", line, failure.getMessage());
    }
  }

  /** What a handshake failure means for an operator, from the JDK's message for it. */
  static String reason(SSLException failure) {
    String message = String.valueOf(failure.getMessage());
    if (message.contains("plaintext connection")
        || message.contains("Unsupported or unrecognized SSL message")) {
      return "the peer does not speak TLS (a node without --cluster-tls?)";
    } else if (message.contains("certification path") || message.contains("PKIX")) {
      return "the peer's certificate is not signed by this node's CA";
    } else if (message.contains("certificate_unknown")
        || message.contains("bad_certificate")
        || message.contains("unknown_ca")) {
      return "the peer does not accept this node's certificate (a node of another CA?)";
    } else if (message.contains("certificate_required") || message.contains("Empty")) {
      return "the peer showed no certificate";
    } else if (message.contains("No subject alternative") || message.contains("No name matching")) {
      return "the peer's certificate does not name the address it was dialed at"
          + " (scripts/make-certs.sh --san)";
    } else if (message.contains("protocol_version")
        || message.contains("No appropriate protocol")
        || message.contains("protocol versions")) {
      return "the peer does not offer TLS 1.3";
    }
    return "TLS handshake failed";
  }

  @Override
  public KeyManager[] keyManagers() {
    return dir.keyManagers();
  }

  @Override
  public TrustManager[] trustManagers() {
    return dir.trustManagers();
  }
}
