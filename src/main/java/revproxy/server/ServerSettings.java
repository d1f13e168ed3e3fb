package revproxy.server;

import com.typesafe.config.Config;
import java.time.Duration;
import revproxy.util.Ports;

/**
 * The {@code server} role's settings, read once from {@code revproxy.server} (see reference.conf).
 * {@code token} is null when none is set.
 */
public record ServerSettings(
    String host,
    String proxyHost,
    int proxyPort,
    int maxPacketBytes,
    int connections,
    String token,
    int registrationAttempts,
    Duration registrationMinBackoff,
    Duration registrationMaxBackoff,
    Duration registrationTimeout,
    Duration registrationReplyWait) {

  public static ServerSettings fromConfig(Config config) {
    Config server = config.getConfig("revproxy.server");
    String token = server.getString("token");
    ServerSettings settings =
        new ServerSettings(
            server.getString("host"),
            server.getString("proxy-host"),
            Ports.fromConfig(config, "revproxy.server.proxy-port", 1),
            server.getInt("max-packet-bytes"),
            server.getInt("connections"),
            token.isEmpty() ? null : token,
            server.getInt("registration-attempts"),
            server.getDuration("registration-min-backoff"),
            server.getDuration("registration-max-backoff"),
            server.getDuration("registration-timeout"),
            server.getDuration("registration-reply-wait"));
    if (settings.maxPacketBytes() < 2) {
      throw new IllegalArgumentException("revproxy.server.max-packet-bytes must be at least 2");
    }
    if (settings.registrationAttempts() < 1) {
      throw new IllegalArgumentException(
          "revproxy.server.registration-attempts must be at least 1");
    }
    return settings;
  }

  /** A copy with another proxy address (tests, and servers that register elsewhere). */
  public ServerSettings withProxy(String host, int port) {
    return new ServerSettings(
        this.host,
        host,
        port,
        maxPacketBytes,
        connections,
        token,
        registrationAttempts,
        registrationMinBackoff,
        registrationMaxBackoff,
        registrationTimeout,
        registrationReplyWait);
  }

  /** Hides the token: settings may be printed. */
  @Override
  public String toString() {
    return "ServerSettings[host="
        + host
        + ", proxy="
        + proxyHost
        + ":"
        + proxyPort
        + ", connections="
        + connections
        + ", token="
        + (token == null ? "none" : "<hidden>")
        + ", registrationAttempts="
        + registrationAttempts
        + "]";
  }
}
