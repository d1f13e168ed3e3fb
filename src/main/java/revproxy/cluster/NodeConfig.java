package revproxy.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import revproxy.tls.ClusterTlsEngineProvider;

/**
 * Builds the configuration of one node. Highest priority first: command-line options, Java system
 * properties ({@code -Dkey=value}), {@code --config FILE} (else {@code ./application.conf} when
 * present), the defaults shipped in the jar (the repository's application.conf), reference.conf.
 * When {@code revproxy.cluster-tls} names a directory, the node talks to its peers over mutual TLS
 * ({@link ClusterTlsEngineProvider}).
 * A node joins the seed nodes, or, with {@code revproxy.cluster.bootstrap = on}, finds its cluster
 * with Akka Management's Cluster Bootstrap (then it has no seed nodes).
 */
public final class NodeConfig {

  /** All nodes of one cluster must use the same actor system name. */
  public static final String SYSTEM_NAME = "akka-reverse-proxy";

  public static final String BOOTSTRAP = "revproxy.cluster.bootstrap";

  private static final String SEED_NODES = "akka.cluster.seed-nodes";

  private final Map<String, Object> overrides = new HashMap<>();
  private Path file;
  private boolean seedsGiven;
  private String fallbackSeed;
  private Integer clusterPort;
  private String rolePortPath;
  private Integer managementPort;
  private String managementHost;
  private String roleManagementPortPath;

  public static NodeConfig create() {
    return new NodeConfig();
  }

  private NodeConfig() {}

  /** A HOCON file that overrides the shipped defaults. */
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
   * Seed nodes as "host:port" (null or empty: keep the configured seeds). Refused by {@link
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

  /**
   * The seed node ("host:port") when no seeds are given and the node does not bootstrap; it wins
   * over the configured seeds.
   */
  public NodeConfig fallbackSeed(String hostPort) {
    this.fallbackSeed = hostPort == null ? null : seedAddress(hostPort);
    return this;
  }

  public Config build() {
    Config config =
        ConfigFactory.parseMap(overrides).withFallback(ConfigFactory.systemProperties());
    if (file != null) {
      if (!Files.isReadable(file)) {
        throw new IllegalArgumentException("cannot read config file " + file);
      }
      config = config.withFallback(ConfigFactory.parseFile(file.toFile()));
    } else {
      File local = new File("application.conf");
      if (local.isFile()) {
        config = config.withFallback(ConfigFactory.parseFile(local));
      }
    }
    Config resolved =
        config
            .withFallback(ConfigFactory.defaultApplication())
            .withFallback(ConfigFactory.defaultReference())
            .resolve();
    Map<String, Object> derived = new HashMap<>();
    Integer port = clusterPort;
    if (port == null && rolePortPath != null) {
      port = resolved.getInt(rolePortPath);
    }
    if (port != null) {
      derived.put("akka.remote.artery.canonical.port", port);
    }
    Integer management = managementPort;
    if (management == null
        && roleManagementPortPath != null
        && !resolved.getIsNull(roleManagementPortPath)) {
      management = resolved.getInt(roleManagementPortPath);
    }
    derived.put("revproxy.management.enabled", management != null);
    if (resolved.getBoolean(BOOTSTRAP)) {
      // Cluster Bootstrap refuses to run when seed nodes are configured, and finds the cluster
      // through the management endpoints of the nodes it discovers, this one's included.
      if (seedsGiven) {
        throw new IllegalArgumentException(
            "--seed and cluster bootstrap (--bootstrap, " + BOOTSTRAP + " = on) exclude each other:"
                + " a bootstrapping node finds its cluster through service discovery");
      }
      // Nodes are built with management(...); a client reading the same file needs neither.
      if (roleManagementPortPath != null) {
        requireBootstrapPrerequisites(resolved, management != null);
      }
      derived.put(SEED_NODES, List.of());
    } else if (!seedsGiven && fallbackSeed != null) {
      derived.put(SEED_NODES, List.of(fallbackSeed));
    }
    if (management != null) {
      String host =
          managementHost != null ? managementHost : resolved.getString("revproxy.management.host");
      derived.put("akka.management.http.hostname", host);
      derived.put("akka.management.http.port", management);
    }
    return ClusterTlsEngineProvider.configure(ConfigFactory.parseMap(derived).withFallback(resolved));
  }

  /** Says what is missing, rather than letting Cluster Bootstrap fail once the node runs. */
  private static void requireBootstrapPrerequisites(Config resolved, boolean management) {
    String bootstrap = "cluster bootstrap (--bootstrap, " + BOOTSTRAP + " = on)";
    if (!management) {
      throw new IllegalArgumentException(
          bootstrap + " needs this node's management endpoint: give --management-port");
    }
    String method =
        resolved.getString("akka.management.cluster.bootstrap.contact-point-discovery.discovery-method");
    if (method.equals("akka.discovery") && resolved.getString("akka.discovery.method").equals("<method>")) {
      throw new IllegalArgumentException(
          bootstrap + " needs a service discovery method: set akka.discovery.method (config,"
              + " kubernetes-api, ...) in the --config file, see docs/DEPLOY.md");
    }
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

  /** "127.0.0.1:2551" -> "akka://akka-reverse-proxy@127.0.0.1:2551". */
  static String seedAddress(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    if (colon <= 0 || colon == hostPort.length() - 1) {
      throw new IllegalArgumentException("expected HOST:PORT for a seed node, got \"" + hostPort + "\"");
    }
    String port = hostPort.substring(colon + 1);
    if (!port.chars().allMatch(Character::isDigit)) {
      throw new IllegalArgumentException("seed node port must be a number, got \"" + hostPort + "\"");
    }
    return "akka://" + SYSTEM_NAME + "@" + hostPort;
  }

  /**
   * The Artery port: {@code port} when given, else the role's own default at {@code roleDefaultPath}
   * (the proxy listens on a fixed port others can seed from; workers default to any free port).
   */
  public NodeConfig clusterPort(Integer port, String roleDefaultPath) {
    this.clusterPort = port;
    this.rolePortPath = roleDefaultPath;
    return this;
  }
}
