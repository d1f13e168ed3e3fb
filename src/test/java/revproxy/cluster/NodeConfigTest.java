package revproxy.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Maven runs the tests with the project root as working directory, so build() also reads the
 * repository's ./application.conf, which sets nothing: the values seen are the shipped defaults.
 */
class NodeConfigTest {

  private static final String PORT = "akka.remote.artery.canonical.port";

  @Test
  void defaultsComeFromReferenceConf() {
    Config config = NodeConfig.create().build();
    assertEquals(2100, config.getInt("revproxy.proxy.port"));
    assertEquals("127.0.0.1", config.getString("revproxy.proxy.host"));
    assertEquals(2551, config.getInt("revproxy.proxy.cluster-port"));
    assertEquals(0, config.getInt("revproxy.worker.cluster-port"));
    assertEquals(Duration.ofSeconds(5), config.getDuration("revproxy.proxy.request-timeout"));
    assertEquals(65536, config.getInt("revproxy.proxy.max-packet-bytes"));
    assertEquals(Duration.ofSeconds(30), config.getDuration("revproxy.client.timeout"));
  }

  @Test
  void theProductsAkkaSettingsWinOverAkkasDefaults() {
    Config config = NodeConfig.create().build();
    assertEquals("cluster", config.getString("akka.actor.provider"));
    assertEquals(
        "jackson-cbor",
        config
            .getConfig("akka.actor.serialization-bindings")
            .root()
            .get("revproxy.cluster.CborSerializable")
            .unwrapped());
    assertFalse(config.getBoolean("akka.actor.allow-java-serialization"));
    assertEquals(
        "akka.cluster.sbr.SplitBrainResolverProvider",
        config.getString("akka.cluster.downing-provider-class"));
    assertEquals(
        "keep-majority", config.getString("akka.cluster.split-brain-resolver.active-strategy"));
    assertEquals(
        List.of("akka://akka-reverse-proxy@127.0.0.1:2551"),
        config.getStringList("akka.cluster.seed-nodes"));
  }

  @Test
  void akkaReferenceConfIsTheLastFallback() {
    // Not in revproxy-akka.conf: only Akka's reference.conf defines it.
    assertEquals(
        Duration.ofSeconds(20),
        NodeConfig.create().build().getDuration("akka.actor.creation-timeout"));
  }

  @Test
  void setOverridesAValue() {
    Config config =
        NodeConfig.create()
            .set("revproxy.proxy.port", 3100)
            .set("revproxy.proxy.request-timeout", "250ms")
            .build();
    assertEquals(3100, config.getInt("revproxy.proxy.port"));
    assertEquals(Duration.ofMillis(250), config.getDuration("revproxy.proxy.request-timeout"));
    assertEquals("127.0.0.1", config.getString("revproxy.proxy.host"));
  }

  @Test
  void setWithNullKeepsTheDefault() {
    Config config = NodeConfig.create().set("revproxy.proxy.port", null).build();
    assertEquals(2100, config.getInt("revproxy.proxy.port"));
  }

  @Test
  void rolesAreSet() {
    assertEquals(
        List.of("worker"),
        NodeConfig.create().roles("worker").build().getStringList("akka.cluster.roles"));
  }

  // ---------------------------------------------------------------- seeds

  @Test
  void seedHostPortBecomesAnAkkaAddress() {
    Config config = NodeConfig.create().seeds(List.of("10.0.0.5:2551")).build();
    assertEquals(
        List.of("akka://akka-reverse-proxy@10.0.0.5:2551"),
        config.getStringList("akka.cluster.seed-nodes"));
  }

  @Test
  void severalSeedsKeepTheirOrder() {
    Config config = NodeConfig.create().seeds(List.of("b:2", "a:1")).build();
    assertEquals(
        List.of("akka://akka-reverse-proxy@b:2", "akka://akka-reverse-proxy@a:1"),
        config.getStringList("akka.cluster.seed-nodes"));
  }

  @Test
  void noSeedsKeepsTheConfiguredSeeds() {
    assertEquals(
        List.of("akka://akka-reverse-proxy@127.0.0.1:2551"),
        NodeConfig.create().seeds(List.of()).build().getStringList("akka.cluster.seed-nodes"));
    assertEquals(
        List.of("akka://akka-reverse-proxy@127.0.0.1:2551"),
        NodeConfig.create().seeds(null).build().getStringList("akka.cluster.seed-nodes"));
  }

  @Test
  void aNodeThatSeedsItselfJoinsAtItsOwnHostAndClusterPort() {
    Config config =
        NodeConfig.create()
            .set("akka.remote.artery.canonical.hostname", "127.0.0.2")
            .clusterPort(null, "revproxy.proxy.cluster-port")
            .seedItself()
            .build();
    assertEquals(
        List.of("akka://akka-reverse-proxy@127.0.0.2:2551"),
        config.getStringList("akka.cluster.seed-nodes"));
  }

  @Test
  void seedingItselfReplacesTheConfiguredSeeds() {
    Config config = NodeConfig.create().clusterPort(2951, null).seedItself().build();
    assertEquals(
        List.of("akka://akka-reverse-proxy@127.0.0.1:2951"),
        config.getStringList("akka.cluster.seed-nodes"));
  }

  @Test
  void givenSeedsWinOverSeedingItself() {
    Config config =
        NodeConfig.create()
            .seeds(List.of("10.0.0.5:2551"))
            .clusterPort(2951, null)
            .seedItself()
            .build();
    assertEquals(
        List.of("akka://akka-reverse-proxy@10.0.0.5:2551"),
        config.getStringList("akka.cluster.seed-nodes"));
  }

  // ---------------------------------------------------------------- joining and rejoining

  private static Duration seedNodeTimeout(Config config) {
    return config.getDuration("akka.cluster.seed-node-timeout");
  }

  @Test
  void aNodeThatIsNotTheFirstSeedAsksToJoinEverySecond() {
    Config worker =
        NodeConfig.create().clusterPort(0, null).seeds(List.of("127.0.0.1:2551")).build();
    Config secondProxy =
        NodeConfig.create()
            .clusterPort(2552, null)
            .seeds(List.of("127.0.0.1:2551", "127.0.0.1:2552"))
            .build();
    assertEquals(Duration.ofSeconds(1), seedNodeTimeout(worker));
    assertEquals(Duration.ofSeconds(1), seedNodeTimeout(secondProxy));
  }

  @Test
  void theFirstSeedKeepsAkkasWaitBeforeItFormsACluster() {
    Config first =
        NodeConfig.create()
            .clusterPort(2551, null)
            .seeds(List.of("127.0.0.1:2551", "127.0.0.1:2552"))
            .build();
    Config alone = NodeConfig.create().clusterPort(2951, null).seedItself().build();
    assertEquals(Duration.ofSeconds(5), seedNodeTimeout(first));
    assertEquals(Duration.ofSeconds(5), seedNodeTimeout(alone));
  }

  @Test
  void anOperatorsSeedNodeTimeoutWins() {
    Config config =
        NodeConfig.create()
            .clusterPort(0, null)
            .set("akka.cluster.seed-node-timeout", "3s")
            .seeds(List.of("127.0.0.1:2551"))
            .build();
    assertEquals(Duration.ofSeconds(3), seedNodeTimeout(config));
  }

  @Test
  void aRejoiningNodeIsTheLastOfItsSeedsAndStopsIfNotLetInInTime() {
    Config first =
        NodeConfig.create()
            .clusterPort(2551, null)
            .seeds(List.of("127.0.0.1:2551", "127.0.0.1:2552", "127.0.0.1:2553"))
            .build();
    Config rejoining = NodeConfig.rejoining(first);
    assertEquals(
        List.of(
            "akka://akka-reverse-proxy@127.0.0.1:2552",
            "akka://akka-reverse-proxy@127.0.0.1:2553",
            "akka://akka-reverse-proxy@127.0.0.1:2551"),
        rejoining.getStringList("akka.cluster.seed-nodes"));
    assertEquals(Duration.ofSeconds(5), seedNodeTimeout(first));
    assertEquals(Duration.ofSeconds(1), seedNodeTimeout(rejoining), "no longer the first seed");
    assertEquals(
        Duration.ofSeconds(60),
        rejoining.getDuration("akka.cluster.shutdown-after-unsuccessful-join-seed-nodes"));
    assertEquals(
        "off",
        first.getString("akka.cluster.shutdown-after-unsuccessful-join-seed-nodes"),
        "a first start waits for its seeds for ever, as Akka's default");
  }

  // ---------------------------------------------------------------- bootstrap

  /** A worker node with a management port and config discovery. */
  private static NodeConfig worker() {
    return NodeConfig.create()
        .clusterPort(null, "revproxy.worker.cluster-port")
        .management(8958, null, "revproxy.worker.management-port")
        .set("akka.discovery.method", "config");
  }

  @Test
  void bootstrapIsOffByDefault() {
    assertFalse(NodeConfig.create().build().getBoolean(NodeConfig.BOOTSTRAP));
  }

  @Test
  void aBootstrappingNodeHasNoSeedNodes() {
    Config config = worker().set(NodeConfig.BOOTSTRAP, true).seedItself().build();
    assertEquals(List.of(), config.getStringList("akka.cluster.seed-nodes"));
    assertTrue(config.getBoolean("revproxy.management.enabled"));
    assertEquals(8958, config.getInt("akka.management.http.port"));
  }

  @Test
  void bootstrapCanBeTurnedOnInTheConfigFile(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("bootstrap.conf");
    Files.writeString(file, NodeConfig.BOOTSTRAP + " = on\n");
    Config config = worker().file(file).build();
    assertTrue(config.getBoolean(NodeConfig.BOOTSTRAP));
    assertEquals(List.of(), config.getStringList("akka.cluster.seed-nodes"));
  }

  @Test
  void seedsAndBootstrapAreRefusedTogether() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> worker().seeds(List.of("10.0.0.5:2551")).set(NodeConfig.BOOTSTRAP, true).build());
    assertTrue(e.getMessage().startsWith("--seed and cluster bootstrap"), e.getMessage());
  }

  @Test
  void aBootstrappingWorkerNodeNeedsAManagementPort() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                NodeConfig.create()
                    .management(null, null, "revproxy.worker.management-port")
                    .set(NodeConfig.BOOTSTRAP, true)
                    .build());
    assertTrue(e.getMessage().endsWith("give --management-port"), e.getMessage());
  }

  @Test
  void aBootstrappingNodeNeedsADiscoveryMethod() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                NodeConfig.create()
                    .management(8958, null, "revproxy.worker.management-port")
                    .set(NodeConfig.BOOTSTRAP, true)
                    .build());
    assertTrue(e.getMessage().contains("needs a service discovery method"), e.getMessage());
  }

  @Test
  void aClientReadingABootstrapConfigNeedsNoManagementPort() {
    Config config = NodeConfig.create().set(NodeConfig.BOOTSTRAP, true).build();
    assertFalse(config.getBoolean("revproxy.management.enabled"));
  }

  // ---------------------------------------------------------------- cluster port

  @Test
  void workerClusterPortDefaultsToAnyFreePort() {
    Config config = NodeConfig.create().clusterPort(null, "revproxy.worker.cluster-port").build();
    assertEquals(0, config.getInt(PORT));
  }

  @Test
  void proxyClusterPortDefaultsTo2551() {
    Config config = NodeConfig.create().clusterPort(null, "revproxy.proxy.cluster-port").build();
    assertEquals(2551, config.getInt(PORT));
  }

  @Test
  void givenClusterPortWinsOverTheRoleDefault() {
    Config config = NodeConfig.create().clusterPort(7000, "revproxy.proxy.cluster-port").build();
    assertEquals(7000, config.getInt(PORT));
  }

  @Test
  void roleClusterPortComesFromTheConfigFile(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("node.conf");
    Files.writeString(file, "revproxy.worker.cluster-port = 2600\n");
    Config config =
        NodeConfig.create().file(file).clusterPort(null, "revproxy.worker.cluster-port").build();
    assertEquals(2600, config.getInt(PORT));
  }

  // ---------------------------------------------------------------- --config FILE

  @Test
  void configFileOverridesTheDefaults(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("my.conf");
    Files.writeString(file, "revproxy.proxy.port = 9999\n");
    Config config = NodeConfig.create().file(file).build();
    assertEquals(9999, config.getInt("revproxy.proxy.port"));
    assertEquals(Duration.ofSeconds(5), config.getDuration("revproxy.proxy.request-timeout"));
    assertEquals(2551, config.getInt("revproxy.proxy.cluster-port"));
  }

  @Test
  void setWinsOverTheConfigFile(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("my.conf");
    Files.writeString(file, "revproxy.proxy.port = 9999\n");
    Config config = NodeConfig.create().file(file).set("revproxy.proxy.port", 4000).build();
    assertEquals(4000, config.getInt("revproxy.proxy.port"));
  }

  @Test
  void missingConfigFileIsRefused(@TempDir Path dir) {
    Path missing = dir.resolve("missing.conf");
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> NodeConfig.create().file(missing).build());
    assertEquals("cannot read config file " + missing, e.getMessage());
  }

  /**
   * Command-line options win over everything, -Dkey=value included (ConfigFactory.load(Config)
   * would put system properties above them).
   */
  @Test
  void optionsWinOverJavaSystemProperties() {
    String key = "revproxy.proxy.port";
    Config config =
        withSystemProperty(key, "7777", () -> NodeConfig.create().set(key, 4000).build());
    assertEquals(4000, config.getInt(key));
  }

  /** As in Typesafe Config's convention, -Dkey=value wins over configuration files. */
  @Test
  void javaSystemPropertiesWinOverTheConfigFile(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("my.conf");
    Files.writeString(file, "revproxy.proxy.port = 9999\n");
    String key = "revproxy.proxy.port";
    Config config = withSystemProperty(key, "7777", () -> NodeConfig.create().file(file).build());
    assertEquals(7777, config.getInt(key));
  }

  @Test
  void javaSystemPropertiesWinOverTheDefaults() {
    String key = "revproxy.proxy.port";
    assertEquals(7777, withSystemProperty(key, "7777", NodeConfig::defaults).getInt(key));
  }

  // ---------------------------------------------------------------- -Dconfig.file,
  // -Dconfig.resource

  /** As for ConfigFactory.load(): the file replaces application.conf, not the defaults. */
  @Test
  void configFilePropertyNamesAnApplicationConfOverTheDefaults(@TempDir Path dir)
      throws IOException {
    Path file = dir.resolve("site.conf");
    Files.writeString(file, "revproxy.proxy.port = 2300\n");
    Config config = withSystemProperty("config.file", file.toString(), NodeConfig::defaults);
    assertEquals(2300, config.getInt("revproxy.proxy.port"));
    assertEquals(Duration.ofSeconds(5), config.getDuration("revproxy.proxy.request-timeout"));
    assertEquals("cluster", config.getString("akka.actor.provider"));
  }

  @Test
  void configResourcePropertyNamesAnApplicationConfOnTheClasspath() {
    Config config =
        withSystemProperty("config.resource", "site-on-classpath.conf", NodeConfig::defaults);
    assertEquals(2301, config.getInt("revproxy.proxy.port"));
    assertEquals(Duration.ofSeconds(5), config.getDuration("revproxy.proxy.request-timeout"));
  }

  @Test
  void configFileOptionWinsOverTheConfigFileProperty(@TempDir Path dir) throws IOException {
    Path site = dir.resolve("site.conf");
    Files.writeString(site, "revproxy.proxy.port = 2300\nrevproxy.proxy.max-attempts = 5\n");
    Path mine = dir.resolve("mine.conf");
    Files.writeString(mine, "revproxy.proxy.port = 2400\n");
    Config config =
        withSystemProperty(
            "config.file", site.toString(), () -> NodeConfig.create().file(mine).build());
    assertEquals(2400, config.getInt("revproxy.proxy.port"));
    assertEquals(5, config.getInt("revproxy.proxy.max-attempts"));
  }

  // ---------------------------------------------------------------- unknown settings

  @Test
  void aMisspeltSettingIsRefusedWithTheOneMeant(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("my.conf");
    Files.writeString(file, "revproxy.proxy.prot = 2300\n");
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> NodeConfig.create().file(file).build());
    assertEquals(
        "unknown setting revproxy.proxy.prot (did you mean revproxy.proxy.port?)", e.getMessage());
  }

  @Test
  void aMisspeltBlockIsRefusedAtItsOwnLevel(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("my.conf");
    Files.writeString(file, "revproxy.legacy.registation.token = secret\n");
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> NodeConfig.create().file(file).build());
    assertEquals(
        "unknown setting revproxy.legacy.registation (did you mean revproxy.legacy.registration?)",
        e.getMessage());
  }

  @Test
  void anUnknownSettingWithNoNeighbourIsRefusedWithoutASuggestion() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> NodeConfig.create().set("revproxy.proxy.compression", "on").build());
    assertEquals("unknown setting revproxy.proxy.compression", e.getMessage());
  }

  @Test
  void anUnknownSettingFromASystemPropertyIsRefused() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> withSystemProperty("revproxy.client.timeuot", "5s", NodeConfig::defaults));
    assertEquals(
        "unknown setting revproxy.client.timeuot (did you mean revproxy.client.timeout?)",
        e.getMessage());
  }

  /** Set from the role's management port at startup, never by an operator. */
  @Test
  void theDerivedManagementSwitchIsNoSetting() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> NodeConfig.create().set("revproxy.management.enabled", true).build());
    assertEquals("unknown setting revproxy.management.enabled", e.getMessage());
  }

  private static Config withSystemProperty(String key, String value, Supplier<Config> build) {
    String before = System.getProperty(key);
    System.setProperty(key, value);
    ConfigFactory.invalidateCaches();
    try {
      return build.get();
    } finally {
      if (before == null) {
        System.clearProperty(key);
      } else {
        System.setProperty(key, before);
      }
      ConfigFactory.invalidateCaches();
    }
  }
}
