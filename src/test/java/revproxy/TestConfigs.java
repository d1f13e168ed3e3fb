package revproxy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import revproxy.cluster.NodeConfig;
import revproxy.legacy.LegacySettings;
import revproxy.legacy.RegistrationSettings;
import revproxy.proxy.OutlierSettings;
import revproxy.proxy.ProxySettings;
import revproxy.tls.ClusterTlsEngineProvider;
import revproxy.tls.TlsDir;

/** Configurations for tests: the shipped defaults with ports and providers made test-friendly. */
public final class TestConfigs {

  /** The shipped configuration, layered as the jar layers it. */
  private static final Config DEFAULTS = NodeConfig.defaults();

  private TestConfigs() {}

  /** A single, non-clustered actor system (the receptionist and routers work locally). */
  public static Config local() {
    return ConfigFactory.parseString("akka.actor.provider = local\n" + "akka.loglevel = WARNING\n")
        .withFallback(DEFAULTS);
  }

  /** A cluster node on a free port that joins nobody until told to. */
  public static Config clusterNode(String role) {
    return ConfigFactory.parseString(
            "akka.remote.artery.canonical.port = 0\n"
                + "akka.cluster.seed-nodes = []\n"
                + "akka.cluster.roles = ["
                + role
                + "]\n"
                + "akka.cluster.jmx.multi-mbeans-in-same-jvm = on\n"
                // Test nodes join by hand (joinSeedNodes): their configuration cannot tell the
                // first seed, so they keep Akka's wait, not revproxy.cluster.join-retry (with 1 s
                // a restarted first seed under load forms a cluster of its own).
                + "akka.cluster.seed-node-timeout = 5s\n"
                + "akka.loglevel = WARNING\n")
        .withFallback(DEFAULTS);
  }

  /**
   * A cluster node on a free port that joins nobody until told to, talking mutual TLS with the
   * files in {@code tlsDir} as {@code --cluster-tls} sets it up.
   */
  public static Config clusterNode(String role, Path tlsDir) {
    return ClusterTlsEngineProvider.configure(
        ConfigFactory.parseMap(Map.of(ClusterTlsEngineProvider.DIR_PATH, tlsDir.toString()))
            .withFallback(clusterNode(role)));
  }

  public static LegacySettings legacySettings() {
    return LegacySettings.fromConfig(DEFAULTS);
  }

  /** The default test settings with another outlier detection. */
  public static ProxySettings withOutliers(OutlierSettings outliers) {
    return withOutliers(
        proxySettings(Duration.ofSeconds(5), Duration.ofSeconds(2), 65536, 100), outliers);
  }

  /** {@code base} with another outlier detection. */
  public static ProxySettings withOutliers(ProxySettings base, OutlierSettings outliers) {
    return base.withOutlier(outliers);
  }

  /** The shipped wait of a policy that has just lost its last routee. */
  public static Duration noWorkerGrace() {
    return ProxySettings.fromConfig(DEFAULTS).noWorkerGrace();
  }

  /** The shipped batching of remote attempts. */
  public static ProxySettings.RemoteBatch remoteBatch() {
    return ProxySettings.fromConfig(DEFAULTS).remoteBatch();
  }

  /**
   * Outlier detection that ejects and holds back nothing within seconds: for tests of the round
   * robin, which a loaded machine must not turn into tests of outlier detection (with the shipped
   * 100 ms, a routee of a busy test JVM may be ejected).
   */
  public static OutlierSettings patientOutliers() {
    OutlierSettings shipped = outlierSettings();
    return OutlierSettings.withoutWarmUp(
        Duration.ofSeconds(5),
        Duration.ofSeconds(5),
        1000,
        Duration.ofSeconds(5),
        shipped.ejectAfterTimeouts(),
        shipped.ejectionTime(),
        shipped.maxEjectionTime(),
        shipped.maxEjectedPercent());
  }

  /** The shipped outlier detection. */
  public static OutlierSettings outlierSettings() {
    return OutlierSettings.fromConfig(DEFAULTS.getConfig("revproxy.proxy"));
  }

  /**
   * The shipped outlier detection without its warm-up: every ejection lasts {@code ejection-time},
   * for tests that count what reaches an ejected routee over more than the 1 s of a warm-up one.
   */
  public static OutlierSettings outlierSettingsWithoutWarmUp() {
    OutlierSettings s = outlierSettings();
    return OutlierSettings.withoutWarmUp(
        s.overdueAfter(),
        s.firstReplyAfter(),
        s.maxUnanswered(),
        s.holdAfter(),
        s.ejectAfterTimeouts(),
        s.ejectionTime(),
        s.maxEjectionTime(),
        s.maxEjectedPercent());
  }

  /** The shipped registration rules: loopback only, no token. */
  public static RegistrationSettings registrationSettings() {
    return legacySettings().registration();
  }

  /** Proxy settings on a free TCP port; one attempt may use the whole request timeout. */
  public static ProxySettings proxySettings(Duration requestTimeout) {
    return proxySettings(requestTimeout, requestTimeout, 65536, 100);
  }

  public static ProxySettings proxySettings(
      Duration requestTimeout, Duration attemptTimeout, int maxPacketBytes, int maxPolicies) {
    return settings(
        "127.0.0.1",
        requestTimeout,
        attemptTimeout,
        maxPacketBytes,
        maxPolicies,
        Duration.ofSeconds(60),
        1000,
        Duration.ofSeconds(60),
        Duration.ofSeconds(10),
        Optional.empty(),
        false,
        false);
  }

  /** The default test settings with other limits on the policies tracked. */
  public static ProxySettings withPolicyLimits(int maxPolicies, Duration forgetPolicyAfter) {
    Duration requestTimeout = Duration.ofSeconds(3);
    return settings(
        "127.0.0.1",
        requestTimeout,
        requestTimeout,
        65536,
        maxPolicies,
        forgetPolicyAfter,
        1000,
        Duration.ofSeconds(60),
        Duration.ofSeconds(10),
        Optional.empty(),
        false,
        false);
  }

  /** The default test settings with other connection limits. */
  public static ProxySettings withConnectionLimits(
      int maxConnections, Duration idleTimeout, Duration packetTimeout) {
    Duration requestTimeout = Duration.ofSeconds(5);
    return settings(
        "127.0.0.1",
        requestTimeout,
        requestTimeout,
        65536,
        100,
        Duration.ofSeconds(60),
        maxConnections,
        idleTimeout,
        packetTimeout,
        Optional.empty(),
        false,
        false);
  }

  /** The default test settings with the access log on, and other limits. */
  public static ProxySettings withAccessLog(
      int maxConnections, Duration idleTimeout, int maxPacketBytes) {
    Duration requestTimeout = Duration.ofSeconds(5);
    return settings(
        "127.0.0.1",
        requestTimeout,
        requestTimeout,
        maxPacketBytes,
        100,
        Duration.ofSeconds(60),
        maxConnections,
        idleTimeout,
        Duration.ofSeconds(10),
        Optional.empty(),
        false,
        true);
  }

  /**
   * The default test settings on {@code host}, with the client port over TLS with {@code dir}'s
   * key, and other connection limits.
   */
  public static ProxySettings withClientTls(
      String host, Path dir, boolean requireClientAuth, int maxConnections, Duration idleTimeout) {
    Duration requestTimeout = Duration.ofSeconds(5);
    return settings(
        host,
        requestTimeout,
        requestTimeout,
        65536,
        100,
        Duration.ofSeconds(60),
        maxConnections,
        idleTimeout,
        Duration.ofSeconds(10),
        Optional.of(TlsDir.load(dir).requireKey()),
        requireClientAuth,
        false);
  }

  /**
   * Test settings: a free port, 3 attempts, 64 in flight, ejection after 2, the shipped
   * no-worker-grace (at most the request timeout).
   */
  private static ProxySettings settings(
      String host,
      Duration requestTimeout,
      Duration attemptTimeout,
      int maxPacketBytes,
      int maxPolicies,
      Duration forgetPolicyAfter,
      int maxConnections,
      Duration idleTimeout,
      Duration packetTimeout,
      Optional<TlsDir> clientTls,
      boolean requireClientAuth,
      boolean accessLog) {
    return new ProxySettings(
        host,
        0,
        requestTimeout,
        attemptTimeout,
        3,
        noWorkerGrace().compareTo(requestTimeout) > 0 ? requestTimeout : noWorkerGrace(),
        64,
        maxPacketBytes,
        maxPolicies,
        forgetPolicyAfter,
        maxConnections,
        idleTimeout,
        packetTimeout,
        outlierSettings(),
        remoteBatch(),
        clientTls,
        requireClientAuth,
        accessLog);
  }
}
