package revproxy.legacy;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.List;

/**
 * Who may register a legacy server with the proxy, and how much registering may cost it; read once
 * from {@code revproxy.legacy.registration} and {@code revproxy.legacy} (see reference.conf).
 *
 * @param allowFrom source addresses a registration is accepted from
 * @param token the shared secret a registration must carry, or null when none is required
 * @param maxPerConnection registrations one client connection may send; later ones are refused
 * @param takeoverAfter how long a registered server must have been unreachable before another
 *     address or port may register its id and policy
 * @param maxBackends legacy servers registered at once
 * @param maxConnections connections to all legacy servers together
 */
public record RegistrationSettings(
    List<Cidr> allowFrom,
    String token,
    int maxPerConnection,
    Duration takeoverAfter,
    int maxBackends,
    int maxConnections) {

  public static RegistrationSettings fromConfig(Config config) {
    Config legacy = config.getConfig("revproxy.legacy");
    Config registration = legacy.getConfig("registration");
    String token = registration.getString("token");
    return new RegistrationSettings(
        registration.getStringList("allow-from").stream().map(Cidr::parse).toList(),
        token.isEmpty() ? null : token,
        atLeast(registration, "max-per-connection", 1, "revproxy.legacy.registration."),
        registration.getDuration("takeover-after"),
        atLeast(legacy, "max-backends", 0, "revproxy.legacy."),
        atLeast(legacy, "max-connections-total", 1, "revproxy.legacy."));
  }

  /** Hides the token: settings are printed by --check and in logs. */
  @Override
  public String toString() {
    return "RegistrationSettings[allowFrom="
        + allowFrom
        + ", token="
        + (token == null ? "none" : "<hidden>")
        + ", maxPerConnection="
        + maxPerConnection
        + ", takeoverAfter="
        + takeoverAfter
        + ", maxBackends="
        + maxBackends
        + ", maxConnections="
        + maxConnections
        + "]";
  }

  private static int atLeast(Config config, String key, int min, String prefix) {
    int value = config.getInt(key);
    if (value < min) {
      throw new IllegalArgumentException(prefix + key + " must be at least " + min);
    }
    return value;
  }
}
