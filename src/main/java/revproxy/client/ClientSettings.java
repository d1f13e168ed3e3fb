package revproxy.client;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import revproxy.tls.TlsDir;
import revproxy.util.Ports;

/**
 * The client's settings, read once from {@code revproxy.client} (see reference.conf).
 *
 * @param tls when present, connect with TLS and accept only a proxy certificate of this
 *     directory's CA (showing its node.p12, if any, as the client's certificate)
 */
public record ClientSettings(
    String host,
    int port,
    Duration timeout,
    Duration readinessWait,
    int maxReplyBytes,
    Optional<TlsDir> tls) {

  public static ClientSettings fromConfig(Config config) {
    Config client = config.getConfig("revproxy.client");
    String tls = client.getString("tls");
    return new ClientSettings(
        client.getString("host"),
        Ports.fromConfig(config, "revproxy.client.port", 1),
        client.getDuration("timeout"),
        client.getDuration("readiness-wait"),
        client.getInt("max-reply-bytes"),
        tls.isEmpty() ? Optional.empty() : Optional.of(TlsDir.load(Path.of(tls))));
  }

  public ClientSettings withAddress(String newHost, int newPort) {
    return new ClientSettings(newHost, newPort, timeout, readinessWait, maxReplyBytes, tls);
  }

  public ClientSettings withTls(Optional<TlsDir> newTls) {
    return new ClientSettings(host, port, timeout, readinessWait, maxReplyBytes, newTls);
  }
}
