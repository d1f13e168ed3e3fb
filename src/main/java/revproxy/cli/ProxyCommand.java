package revproxy.cli;

import akka.actor.typed.ActorSystem;
import com.typesafe.config.Config;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import revproxy.cluster.NodeConfig;
import revproxy.legacy.LegacySettings;
import revproxy.proxy.ProxyNode;
import revproxy.proxy.ProxySettings;

@Command(
    name = "proxy",
    mixinStandardHelpOptions = true,
    description = {
      "Run the proxy node: the cluster's seed by default, and the client-facing TCP endpoint.",
      "It listens once the node is Up and routes each request round robin to a worker of its policy."
    })
public final class ProxyCommand implements Callable<Integer> {

  @Option(names = "--host", paramLabel = "HOST", description = "TCP address for clients (default 127.0.0.1).")
  String host;

  @Option(
      names = {"--port", "-port"},
      paramLabel = "PORT",
      description = "TCP port for clients (default 2100). -port is the original tutorial's spelling.")
  Integer port;

  @Mixin ClusterOptions cluster;

  @Override
  public Integer call() throws InterruptedException {
    Config config =
        cluster
            .seedItselfIfOnlyThePortIsGiven()
            .nodeConfig("proxy")
            .set("revproxy.proxy.host", host)
            .set("revproxy.proxy.port", port)
            .build();
    ActorSystem<ProxyNode.Command> system =
        ActorSystem.create(
            ProxyNode.create(ProxySettings.fromConfig(config), LegacySettings.fromConfig(config)), NodeConfig.SYSTEM_NAME, config);
    return Nodes.awaitTermination(system);
  }
}
