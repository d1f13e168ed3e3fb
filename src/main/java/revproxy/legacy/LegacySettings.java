package revproxy.legacy;

import com.typesafe.config.Config;
import java.time.Duration;

/** How the proxy talks to legacy TCP servers, read once from {@code revproxy.legacy}. */
public record LegacySettings(
    int connectionsPerBackend,
    int maxConnectionsPerBackend,
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
        legacy.getInt("connections-per-backend"),
        legacy.getInt("max-connections-per-backend"),
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
