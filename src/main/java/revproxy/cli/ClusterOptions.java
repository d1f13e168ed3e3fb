package revproxy.cli;

import java.nio.file.Path;
import java.util.List;
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
      description = "Address other nodes reach this node at (akka.remote.artery.canonical.hostname).")
  String clusterHost;

  @Option(
      names = "--cluster-port",
      paramLabel = "PORT",
      description = "Cluster (Artery) port of this node; 0 = any free port.")
  Integer clusterPort;

  @Option(
      names = "--seed",
      paramLabel = "HOST:PORT",
      split = ",",
      description = "Seed node(s) to join (repeatable). Default: the proxy at 127.0.0.1:2551.")
  List<String> seeds;

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
      description = {
        "Port of the management HTTP endpoint (/alive, /ready, /cluster/members, /metrics,",
        "/routing). Default: 8558 on a proxy; none on a worker node unless given."
      })
  Integer managementPort;

  @Option(
      names = "--management-host",
      paramLabel = "HOST",
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

  private boolean seedItself;

  /**
   * The default seed is the proxy at its default cluster port. A proxy moved to another port with
   * no seed list given (and not bootstrapping) joins itself there, instead of waiting for a seed
   * that is not there.
   */
  ClusterOptions seedItselfIfOnlyThePortIsGiven() {
    seedItself = true;
    return this;
  }

  /** {@code role}: whose cluster port default applies; {@code roles}: the node's cluster roles. */
  NodeConfig nodeConfig(String role, String... roles) {
    String self =
        seedItself && clusterPort != null
            ? (clusterHost != null ? clusterHost : "127.0.0.1") + ":" + clusterPort
            : null;
    return configOption.nodeConfig()
        .roles(roles)
        .set("akka.remote.artery.canonical.hostname", clusterHost)
        .clusterPort(clusterPort, "revproxy." + role + ".cluster-port")
        .management(managementPort, managementHost, "revproxy." + role + ".management-port")
        .seeds(seeds)
        .fallbackSeed(self)
        .set(NodeConfig.BOOTSTRAP, bootstrap ? true : null)
        .set(ClusterTlsEngineProvider.DIR_PATH, Objects.toString(clusterTls, null));
  }
}
