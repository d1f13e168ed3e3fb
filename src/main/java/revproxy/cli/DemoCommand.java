package revproxy.cli;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import revproxy.client.ClientSettings;
import revproxy.client.PacketFile;
import revproxy.demo.Demo;
import revproxy.legacy.LegacySettings;
import revproxy.proxy.ProxySettings;
import revproxy.tls.ClusterTlsEngineProvider;
import revproxy.worker.WorkerSettings;

@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Run the whole system in this JVM: a proxy node and two worker nodes (workers 100 and 200 on",
      "node A, 300 and 400 on node B; policies 111 and 222 span both) as one Akka cluster, then",
      "the client over the sample packets. Exit status 0 only if every hash verified."
    })
public final class DemoCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(
      names = "--port",
      paramLabel = "PORT",
      converter = OptionValues.ListenPort.class,
      description = "Proxy TCP port (default 2100; 0 = any free port).")
  Integer port;

  @Option(
      names = "--packets",
      paramLabel = "PATH",
      split = ",",
      description = "Packet files or directories (default: the sample packets bundled in the jar).")
  List<Path> packets;

  @Option(
      names = "--cluster-tls",
      paramLabel = "DIR",
      description =
          "Mutual TLS between the three nodes, with the key and CA in DIR (scripts/make-certs.sh).")
  Path clusterTls;

  @Mixin ConfigOption configOption;

  @Override
  public Integer call() throws Exception {
    Logging.warningsOnly();
    List<PacketFile> toSend = packets == null ? PacketFile.builtIn() : PacketFile.load(packets);
    Config nodeConfig =
        configOption
            .nodeConfig()
            .set("akka.loglevel", "WARNING")
            .set("revproxy.proxy.port", port)
            .set(ClusterTlsEngineProvider.DIR_PATH, Objects.toString(clusterTls, null))
            .build();
    // Bad settings are a command-line error (exit 2) before anything starts, not a failed node.
    ProxySettings.fromConfig(nodeConfig);
    LegacySettings.fromConfig(nodeConfig);
    WorkerSettings.fromConfig(nodeConfig);
    ClientSettings.fromConfig(nodeConfig);
    if (configOption.check) {
      return ConfigCheck.print(
          spec.commandLine().getOut(),
          "demo",
          nodeConfig,
          false,
          "cluster-tls",
          "proxy",
          "legacy",
          "worker",
          "client");
    }
    return Demo.run(nodeConfig, toSend, System.out);
  }
}
