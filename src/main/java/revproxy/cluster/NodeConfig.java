package revproxy.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import revproxy.tls.ClusterTlsEngineProvider;
import revproxy.util.Ports;

/**
 * Builds the configuration of one node, the way Typesafe Config users expect. Highest priority
 * first:
 *
 * <ol>
 *   <li>command-line options ({@link #set}, {@link #seeds}, ...);
 *   <li>environment variables {@code CONFIG_FORCE_revproxy_proxy_port=2300} ({@link
 *       ConfigFactory#systemEnvironmentOverrides()});
 *   <li>Java system properties ({@code -Drevproxy.proxy.port=2300});
 *   <li>{@code --config FILE} ({@link #file});
 *   <li>{@code ./application.conf} when present; {@code -Dconfig.file}, {@code -Dconfig.resource}
 *       or {@code -Dconfig.url} replace it, as they replace application.conf for {@link
 *       ConfigFactory#load()};
 *   <li>the product's Akka settings, the resource {@value #AKKA_SETTINGS};
 *   <li>every module's reference.conf: ours holds every {@code revproxy} default.
 * </ol>
 *
 * <p>Substitutions such as {@code ${?REVPROXY_REGISTRATION_TOKEN}} are resolved once, over all
 * layers. A setting under {@code revproxy} that reference.conf does not have is refused ({@link
 * KnownSettings}). When {@code revproxy.cluster-tls} names a directory, the node talks to its peers
 * over mutual TLS ({@link ClusterTlsEngineProvider}). A node joins the seed nodes, or, with {@code
 * revproxy.cluster.bootstrap = on}, finds its cluster with Akka Management's Cluster Bootstrap
 * (then it has no seed nodes).
 */
public final class NodeConfig {

  /** All nodes of one cluster must use the same actor system name. */
  public static final String SYSTEM_NAME = "akka-reverse-proxy";

  public static final String BOOTSTRAP = "revproxy.cluster.bootstrap";

  private static final String SEED_NODES = "akka.cluster.seed-nodes";

  private static final String SEED_NODE_TIMEOUT = "akka.cluster.seed-node-timeout";

  private static final String JOIN_RETRY = "revproxy.cluster.join-retry";

  private static final String REJOIN_WITHIN = "revproxy.cluster.rejoin-within";

  /**
   * The product's Akka settings. Not in reference.conf: the shaded jar concatenates every module's
   * reference.conf, ours first, so Akka's own defaults would win over them there.
   */
  static final String AKKA_SETTINGS = "revproxy-akka.conf";

  /**
   * System properties that name the application's configuration instead of ./application.conf, as
   * they do for {@link ConfigFactory#load()}.
   */
  private static final List<String> APPLICATION_PROPERTIES =
      List.of("config.file", "config.resource", "config.url");

  private final Map<String, Object> overrides = new HashMap<>();
  private Path file;
  private boolean seedsGiven;
  private Integer clusterPort;
  private String rolePortPath;
  private Integer managementPort;
  private String managementHost;
  private String roleManagementPortPath;
  private boolean seedItself;

  public static NodeConfig create() {
    return new NodeConfig();
  }

  /** The configuration every role starts from, with nothing set: what the tests run with. */
  public static Config defaults() {
    return create().build();
  }

  private NodeConfig() {}

  /** A HOCON file ({@code --config}) read over ./application.conf and the defaults. */
  public NodeConfig file(Path configFile) {
    this.file = configFile;
    return this;
  }

  public NodeConfig roles(String... roles) {
    overrides.put("akka.cluster.roles", List.of(roles));
    return this;
  }

  /** Sets {@code path} when {@code value} is given (null means: keep the configured value). */
  public NodeConfig set(String path, Object value) {
    if (value != null) {
      overrides.put(path, value);
    }
    return this;
  }

  /**
   * Seed nodes as checked "host:port" (null or empty: keep the configured seeds). Refused by {@link
   * #build()} when the node bootstraps.
   */
  public NodeConfig seeds(List<String> hostPorts) {
    if (hostPorts != null && !hostPorts.isEmpty()) {
      List<String> addresses = new ArrayList<>();
      for (String hostPort : hostPorts) {
        addresses.add(seedAddress(hostPort));
      }
      overrides.put(SEED_NODES, addresses);
      seedsGiven = true;
    }
    return this;
  }

  public Config build() {
    // What the operator set, over the product's defaults.
    Config operator =
        ConfigFactory.parseMap(overrides)
            .withFallback(ConfigFactory.systemEnvironmentOverrides())
            .withFallback(ConfigFactory.systemProperties())
            .withFallback(configFile())
            .withFallback(application());
    Config resolved =
        operator
            .withFallback(
                ConfigFactory.parseResources(
                    AKKA_SETTINGS, ConfigParseOptions.defaults().setAllowMissing(false)))
            .withFallback(ConfigFactory.defaultReferenceUnresolved())
            .resolve();
    KnownSettings.check(resolved);
    Map<String, Object> derived = new HashMap<>();
    Integer port = clusterPort;
    if (port == null && rolePortPath != null) {
      port = Ports.fromConfig(resolved, rolePortPath, 0);
    }
    if (port != null) {
      derived.put("akka.remote.artery.canonical.port", port);
    }
    Integer management = managementPort;
    if (management == null
        && roleManagementPortPath != null
        && !resolved.getIsNull(roleManagementPortPath)) {
      management = Ports.fromConfig(resolved, roleManagementPortPath, 0);
    }
    derived.put("revproxy.management.enabled", management != null);
    if (resolved.getBoolean(BOOTSTRAP)) {
      // Cluster Bootstrap refuses to run when seed nodes are configured, and finds the cluster
      // through the management endpoints of the nodes it discovers, this one's included.
      if (seedsGiven) {
        throw new IllegalArgumentException(
            "--seed and cluster bootstrap (--bootstrap, "
                + BOOTSTRAP
                + " = on) exclude each other:"
                + " a bootstrapping node finds its cluster through service discovery");
      }
      // Nodes are built with management(...); a client reading the same file needs neither.
      if (roleManagementPortPath != null) {
        requireBootstrapPrerequisites(resolved, management != null);
      }
      derived.put(SEED_NODES, List.of());
    } else if (seedItself && !seedsGiven) {
      int ownPort = port != null ? port : resolved.getInt("akka.remote.artery.canonical.port");
      derived.put(
          SEED_NODES,
          List.of(
              seedAddress(
                  resolved.getString("akka.remote.artery.canonical.hostname") + ":" + ownPort)));
    }
    int ownPort = port != null ? port : resolved.getInt("akka.remote.artery.canonical.port");
    String self =
        seedAddress(resolved.getString("akka.remote.artery.canonical.hostname") + ":" + ownPort);
    @SuppressWarnings("unchecked")
    List<String> seeds =
        derived.containsKey(SEED_NODES)
            ? (List<String>) derived.get(SEED_NODES)
            : resolved.getStringList(SEED_NODES);
    if (!seeds.isEmpty() && !seeds.get(0).equals(self) && !sets(operator, SEED_NODE_TIMEOUT)) {
      // Not the first seed: akka.cluster.seed-node-timeout is only how often it asks to join.
      derived.put(SEED_NODE_TIMEOUT, resolved.getString(JOIN_RETRY));
    }
    if (management != null) {
      String host =
          managementHost != null ? managementHost : resolved.getString("revproxy.management.host");
      derived.put("akka.management.http.hostname", host);
      derived.put("akka.management.http.port", management);
    }
    return ClusterTlsEngineProvider.configure(
        ConfigFactory.parseMap(derived).withFallback(resolved));
  }

  /** Whether the operator's layers set {@code path} (a value needing resolution counts as set). */
  private static boolean sets(Config operator, String path) {
    try {
      return operator.hasPathOrNull(path);
    } catch (com.typesafe.config.ConfigException.NotResolved e) {
      return true;
    }
  }

  /**
   * The configuration to start a node again with, in the same JVM, after the cluster downed it:
   * itself moved to the end of the seed nodes (with two or more seeds), so that it joins the
   * cluster that downed it and never forms a second one as the first seed would when it finds no
   * other seed (a partition), asking every {@code revproxy.cluster.join-retry}, and {@code
   * akka.cluster.shutdown-after-unsuccessful-join-seed-nodes} = {@code
   * revproxy.cluster.rejoin-within}, so that it stops (exit status 1, for systemd to start it
   * afresh) when no seed lets it in by then.
   */
  public static Config rejoining(Config config) {
    String self =
        seedAddress(
            config.getString("akka.remote.artery.canonical.hostname")
                + ":"
                + config.getInt("akka.remote.artery.canonical.port"));
    List<String> seeds = new ArrayList<>(config.getStringList(SEED_NODES));
    boolean wasFirst = !seeds.isEmpty() && seeds.get(0).equals(self);
    if (seeds.remove(self)) {
      seeds.add(self);
    }
    Map<String, Object> rejoin = new HashMap<>();
    rejoin.put(SEED_NODES, seeds);
    if (wasFirst && seeds.size() > 1) {
      // No longer the first seed: seed-node-timeout is now only how often it asks to join.
      rejoin.put(SEED_NODE_TIMEOUT, config.getString(JOIN_RETRY));
    }
    rejoin.put(
        "akka.cluster.shutdown-after-unsuccessful-join-seed-nodes",
        config.getString(REJOIN_WITHIN));
    return ConfigFactory.parseMap(rejoin).withFallback(config);
  }

  /** Says what is missing, rather than letting Cluster Bootstrap fail once the node runs. */
  private static void requireBootstrapPrerequisites(Config resolved, boolean management) {
    String bootstrap = "cluster bootstrap (--bootstrap, " + BOOTSTRAP + " = on)";
    if (!management) {
      throw new IllegalArgumentException(
          bootstrap + " needs this node's management endpoint: give --management-port");
    }
    String method =
        resolved.getString(
            "akka.management.cluster.bootstrap.contact-point-discovery.discovery-method");
    if (method.equals("akka.discovery")
        && resolved.getString("akka.discovery.method").equals("<method>")) {
      throw new IllegalArgumentException(
          bootstrap
              + " needs a service discovery method: set akka.discovery.method (config,"
              + " kubernetes-api, ...) in the --config file, see docs/DEPLOY.md");
    }
  }

  private Config configFile() {
    if (file == null) {
      return ConfigFactory.empty();
    }
    if (!Files.isReadable(file)) {
      throw new IllegalArgumentException("cannot read config file " + file);
    }
    return ConfigFactory.parseFile(file.toFile());
  }

  private static Config application() {
    if (APPLICATION_PROPERTIES.stream()
        .anyMatch(property -> System.getProperty(property) != null)) {
      return ConfigFactory.defaultApplication();
    }
    File local = new File("application.conf");
    return local.isFile() ? ConfigFactory.parseFile(local) : ConfigFactory.empty();
  }

  /**
   * The management endpoint: on {@code port} when given, else on the role's default at {@code
   * roleDefaultPath} (null there: none); at {@code host} when given, else {@code
   * revproxy.management.host}.
   */
  public NodeConfig management(Integer port, String host, String roleDefaultPath) {
    this.managementPort = port;
    this.managementHost = host;
    this.roleManagementPortPath = roleDefaultPath;
    return this;
  }

  /**
   * The node is its own seed, at its canonical host and its cluster port ({@link #clusterPort}),
   * when no seeds are given and it does not bootstrap; it wins over the configured seeds.
   */
  public NodeConfig seedItself() {
    this.seedItself = true;
    return this;
  }

  /** "127.0.0.1:2551" -> "akka://akka-reverse-proxy@127.0.0.1:2551". */
  static String seedAddress(String hostPort) {
    return "akka://" + SYSTEM_NAME + "@" + hostPort;
  }

  /**
   * The Artery port: {@code port} when given, else the role's own default at {@code
   * roleDefaultPath} (the proxy listens on a fixed port others can seed from; workers default to
   * any free port).
   */
  public NodeConfig clusterPort(Integer port, String roleDefaultPath) {
    this.clusterPort = port;
    this.rolePortPath = roleDefaultPath;
    return this;
  }
}
