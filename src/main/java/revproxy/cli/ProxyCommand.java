package revproxy.cli;

import akka.actor.typed.ActorSystem;
import com.typesafe.config.Config;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import revproxy.cluster.NodeConfig;
import revproxy.cluster.Roles;
import revproxy.legacy.LegacySettings;
import revproxy.node.NodeGuardian;
import revproxy.proxy.ProxySettings;
import revproxy.worker.WorkerSettings;
import revproxy.worker.WorkerSpec;

@Command(
    name = "proxy",
    mixinStandardHelpOptions = true,
    description = {
      "Run the proxy node: the cluster's seed by default, and the client-facing TCP endpoint.",
      "It listens once the node is Up and routes each request round robin to a worker of its policy."
    })
public final class ProxyCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(
      names = "--host",
      paramLabel = "HOST",
      converter = OptionValues.Host.class,
      description = "TCP address for clients (default 127.0.0.1).")
  String host;

  @Option(
      names = {"--port", "-port"},
      paramLabel = "PORT",
      converter = OptionValues.ListenPort.class,
      description =
          "TCP port for clients (default 2100). -port is the original tutorial's spelling.")
  Integer port;

  @Option(
      names = "--client-tls",
      paramLabel = "DIR",
      description = {
        "Serve the client port over TLS (1.3 or 1.2) with the key in DIR (scripts/make-certs.sh);",
        "plain TCP clients are then disconnected."
      })
  Path clientTls;

  @Option(
      names = "--require-client-auth",
      description = "With --client-tls: serve only clients showing a certificate of DIR's CA.")
  Boolean requireClientAuth;

  @Option(
      names = "--access-log",
      description = {
        "One log line per closed client connection (peer, duration, requests, replies, errors,",
        "bytes in and out, how it ended) on the logger revproxy.access."
      })
  Boolean accessLog;

  @Option(
      names = "--local-worker",
      paramLabel = "ID:POLICY",
      split = ",",
      converter = WorkerCommand.WorkerSpecConverter.class,
      description = {
        "Also run HashWorker ID for POLICY inside this node (repeatable): the proxy and its",
        "workers in one JVM, no serialization; for benchmarks and single-machine setups."
      })
  List<WorkerSpec> localWorkers = new ArrayList<>();

  @Mixin ClusterOptions cluster;

  @Override
  public Integer call() throws InterruptedException {
    WorkerSpec.requireDistinctIds(localWorkers);
    // A proxy with local workers is also a worker node: the guardian runs both parts.
    String[] roles =
        localWorkers.isEmpty()
            ? new String[] {Roles.PROXY}
            : new String[] {Roles.PROXY, Roles.WORKER};
    Config config =
        cluster
            .proxyNodeConfig(roles)
            .set("revproxy.proxy.host", host)
            .set("revproxy.proxy.port", port)
            .set("revproxy.proxy.client-tls", Objects.toString(clientTls, null))
            .set("revproxy.proxy.require-client-auth", requireClientAuth)
            .set("revproxy.proxy.access-log", accessLog)
            .build();
    // Bad settings are a command-line error (exit 2) before anything starts, not a failed node.
    ClusterOptions.requireDistinctPorts(config, "revproxy.proxy.port");
    ProxySettings.fromConfig(config);
    LegacySettings.fromConfig(config);
    if (!localWorkers.isEmpty()) {
      WorkerSettings.fromConfig(config);
    }
    if (cluster.check()) {
      String[] sections =
          localWorkers.isEmpty()
              ? new String[] {"cluster-tls", "management", "proxy", "legacy"}
              : new String[] {"cluster-tls", "management", "proxy", "legacy", "worker"};
      return ConfigCheck.print(spec.commandLine().getOut(), "proxy", config, true, sections);
    }
    Config run = config;
    while (true) {
      ActorSystem<NodeGuardian.Command> system =
          Nodes.start(NodeGuardian.create(run, localWorkers), run);
      int status = Nodes.awaitTermination(system);
      if (!Nodes.shouldRejoin(system)) {
        return status;
      }
      // Downed by the cluster (a partition, a long pause): rejoin from this JVM, which is
      // seconds faster than an exit and a restart, and never as the first seed.
      run = NodeConfig.rejoining(config);
      LoggerFactory.getLogger(ProxyCommand.class)
          .warn(
              "Proxy node stopped ({}); starting it again to rejoin the cluster, as the last of"
                  + " its seeds {}, within {}",
              Nodes.shutdownReason(system),
              run.getStringList("akka.cluster.seed-nodes"),
              run.getString("revproxy.cluster.rejoin-within"));
    }
  }
}
