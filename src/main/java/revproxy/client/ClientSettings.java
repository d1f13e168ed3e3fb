package revproxy.client;

import com.typesafe.config.Config;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import revproxy.tls.TlsDir;
import revproxy.util.Ports;

/**
 * The client's settings, read once from {@code revproxy.client} (see reference.conf).
 *
 * @param proxies the proxies to use, in order of preference: the client fails over to the next one
 *     when a connection fails or breaks
 * @param tls when present, connect with TLS and accept only a proxy certificate of this directory's
 *     CA (showing its node.p12, if any, as the client's certificate)
 */
public record ClientSettings(
    List<InetSocketAddress> proxies,
    Duration timeout,
    Duration readinessWait,
    int maxReplyBytes,
    Optional<TlsDir> tls) {

  public ClientSettings {
    if (proxies.isEmpty()) {
      throw new IllegalArgumentException("the client needs at least one proxy");
    }
    proxies = List.copyOf(proxies);
  }

  /** One proxy at {@code host:port}. */
  public ClientSettings(
      String host,
      int port,
      Duration timeout,
      Duration readinessWait,
      int maxReplyBytes,
      Optional<TlsDir> tls) {
    this(
        List.of(InetSocketAddress.createUnresolved(host, port)),
        timeout,
        readinessWait,
        maxReplyBytes,
        tls);
  }

  public static ClientSettings fromConfig(Config config) {
    Config client = config.getConfig("revproxy.client");
    String tls = client.getString("tls");
    List<InetSocketAddress> proxies =
        new ArrayList<>(Ports.hostPorts(config, "revproxy.client.proxies"));
    if (proxies.isEmpty()) {
      proxies.add(
          InetSocketAddress.createUnresolved(
              client.getString("host"), Ports.fromConfig(config, "revproxy.client.port", 1)));
    }
    return new ClientSettings(
        proxies,
        client.getDuration("timeout"),
        client.getDuration("readiness-wait"),
        client.getInt("max-reply-bytes"),
        tls.isEmpty() ? Optional.empty() : Optional.of(TlsDir.load(Path.of(tls))));
  }

  public ClientSettings withAddress(String newHost, int newPort) {
    return new ClientSettings(newHost, newPort, timeout, readinessWait, maxReplyBytes, tls);
  }

  public ClientSettings withTls(Optional<TlsDir> newTls) {
    return new ClientSettings(proxies, timeout, readinessWait, maxReplyBytes, newTls);
  }
}
