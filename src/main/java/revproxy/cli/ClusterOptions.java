package revproxy.cli;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import revproxy.cluster.NodeConfig;
import revproxy.tls.ClusterTlsEngineProvider;

/** Options every cluster node shares; unset options keep the configured values. */
public final class ClusterOptions {

  @Option(
      names = "--cluster-host",
      paramLabel = "HOST",
      converter = OptionValues.Host.class,
      description =
          "Address other nodes reach this node at (akka.remote.artery.canonical.hostname).")
  String clusterHost;

  @Option(
      names = "--cluster-port",
      paramLabel = "PORT",
      converter = OptionValues.ListenPort.class,
      description = "Cluster (Artery) port of this node; 0 = any free port.")
  Integer clusterPort;

  @Option(
      names = "--seed",
      paramLabel = "HOST:PORT",
      split = ",",
      converter = HostPort.Converter.class,
      description = "Seed node(s) to join (repeatable). Default: the proxy at 127.0.0.1:2551.")
  List<HostPort> seeds;

  @Option(
      names = "--bootstrap",
      description = {
        "Find the cluster with Akka Cluster Bootstrap instead of seed nodes: look up the nodes'",
        "management endpoints in service discovery (akka.discovery.method, e.g. config or",
        "kubernetes-api, from --config) and join the cluster they report, or form one",
        "(revproxy.cluster.bootstrap = on). Needs the management endpoint; no --seed."
      })
  boolean bootstrap;

  @Option(
      names = "--management-port",
      paramLabel = "PORT",
      converter = OptionValues.ListenPort.class,
      description = {
        "Port of the management HTTP endpoint (/alive, /ready, /cluster/members, /metrics,",
        "/routing). Default: 8558 on a proxy; none on a worker node unless given."
      })
  Integer managementPort;

  @Option(
      names = "--management-host",
      paramLabel = "HOST",
      converter = OptionValues.Host.class,
      description = "Address of the management endpoint (default 127.0.0.1).")
  String managementHost;

  @Option(
      names = "--cluster-tls",
      paramLabel = "DIR",
      description = {
        "Mutual TLS with the other nodes, with the key and CA in DIR (scripts/make-certs.sh);",
        "every node of the cluster needs it, with the same CA."
      })
  Path clusterTls;

  @Mixin ConfigOption configOption;

  boolean check() {
    return configOption.check;
  }

  /**
   * The configuration of a proxy node. The default seed is the proxy at its default address. A
   * proxy moved to another cluster host or port with no seed list given joins itself there, at its
   * own address (the port from the configuration when only the host is given), instead of waiting
   * for a seed that is not there (unless it bootstraps).
   */
  NodeConfig proxyNodeConfig(String... roles) {
    NodeConfig config = nodeConfig("proxy", roles);
    boolean moved = clusterHost != null || clusterPort != null;
    return moved && (seeds == null || seeds.isEmpty()) ? config.seedItself() : config;
  }

  /**
   * Refuses two of the node's own ports on one number ({@code clientPortPath}: the proxy's client
   * port, or null): one of them could not bind. 0, any free port, is no conflict.
   */
  static void requireDistinctPorts(Config config, String clientPortPath) {
    Map<String, Integer> ports = new LinkedHashMap<>();
    if (clientPortPath != null) {
      ports.put("--port", config.getInt(clientPortPath));
    }
    ports.put("--cluster-port", config.getInt("akka.remote.artery.canonical.port"));
    if (config.getBoolean("revproxy.management.enabled")) {
      ports.put("--management-port", config.getInt("akka.management.http.port"));
    }
    Map<Integer, String> optionByPort = new HashMap<>();
    for (Map.Entry<String, Integer> port : ports.entrySet()) {
      String other =
          port.getValue() == 0 ? null : optionByPort.putIfAbsent(port.getValue(), port.getKey());
      if (other != null) {
        throw new IllegalArgumentException(
            other
                + " and "
                + port.getKey()
                + " are both "
                + port.getValue()
                + ": each needs a port of its own");
      }
    }
  }

  /** {@code role}: whose cluster port default applies; {@code roles}: the node's cluster roles. */
  NodeConfig nodeConfig(String role, String... roles) {
    return configOption
        .nodeConfig()
        .roles(roles)
        .set("akka.remote.artery.canonical.hostname", clusterHost)
        .clusterPort(clusterPort, "revproxy." + role + ".cluster-port")
        .management(managementPort, managementHost, "revproxy." + role + ".management-port")
        .seeds(seeds == null ? null : seeds.stream().map(HostPort::toString).toList())
        .set(NodeConfig.BOOTSTRAP, bootstrap ? true : null)
        .set(ClusterTlsEngineProvider.DIR_PATH, Objects.toString(clusterTls, null));
  }
}
