package revproxy.legacy;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.OptionalInt;

/**
 * How the proxy talks to legacy TCP servers, read once from {@code revproxy.legacy}. {@code
 * connectionsPerBackend} is empty for {@code auto}: a server that does not say how many connections
 * it serves gets a pool that learns it (see {@link LegacyBackend}).
 */
public record LegacySettings(
    OptionalInt connectionsPerBackend,
    int maxConnectionsPerBackend,
    Duration probeTimeout,
    Duration probeBackoff,
    Duration idleCloseAfter,
    Duration connectTimeout,
    Duration replyTimeout,
    Duration reconnectMinBackoff,
    Duration reconnectMaxBackoff,
    int maxQueuedPerBackend,
    int maxReplyBytes,
    Duration forgetUnreachableAfter,
    RegistrationSettings registration) {

  public static LegacySettings fromConfig(Config config) {
    Config legacy = config.getConfig("revproxy.legacy");
    return new LegacySettings(
        legacy.getString("connections-per-backend").equals("auto")
            ? OptionalInt.empty()
            : OptionalInt.of(legacy.getInt("connections-per-backend")),
        legacy.getInt("max-connections-per-backend"),
        legacy.getDuration("probe-timeout"),
        legacy.getDuration("probe-backoff"),
        legacy.getDuration("idle-close-after"),
        legacy.getDuration("connect-timeout"),
        legacy.getDuration("reply-timeout"),
        legacy.getDuration("reconnect-min-backoff"),
        legacy.getDuration("reconnect-max-backoff"),
        legacy.getInt("max-queued-per-backend"),
        legacy.getInt("max-reply-bytes"),
        legacy.getDuration("forget-unreachable-after"),
        RegistrationSettings.fromConfig(config));
  }
}
