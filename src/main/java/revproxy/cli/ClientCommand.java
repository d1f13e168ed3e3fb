package revproxy.cli;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import com.typesafe.config.Config;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import revproxy.client.ClientRun;
import revproxy.client.ClientSettings;
import revproxy.client.PacketFile;
import revproxy.client.ProxyClient;

@Command(
    name = "client",
    mixinStandardHelpOptions = true,
    description = {
      "Send packet files to the proxy, pipelined on one connection, and verify every reply:",
      "type \"2\", addressed to the packet's srcid, carrying the SHA-1 of the payload sent.",
      "Prints a line per packet and a summary; exit status 0 only if every hash verified."
    })
public final class ClientCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(
      names = "--host",
      paramLabel = "HOST",
      converter = OptionValues.Host.class,
      description = "Proxy address (default 127.0.0.1).")
  String host;

  @Option(
      names = {"--port", "-revproc"},
      paramLabel = "PORT",
      converter = OptionValues.Port.class,
      description = "Proxy port (default 2100). -revproc is the original tutorial's spelling.")
  Integer port;

  @Option(
      names = "--proxy",
      paramLabel = "HOST:PORT",
      split = ",",
      converter = HostPort.Converter.class,
      description = {
        "A proxy to use instead of --host/--port (repeatable or comma-separated, in order of",
        "preference): when a connection fails or breaks, the requests without a reply go to the",
        "next one."
      })
  List<HostPort> proxies;

  @Option(
      names = {"--pkt", "-pkt"},
      paramLabel = "FILE",
      description = "A packet file (repeatable); the original tutorial's way to name one.")
  List<Path> pktFiles = new ArrayList<>();

  @Option(
      names = {"--id", "-id"},
      paramLabel = "ID",
      description = "Client id, accepted for the original tutorial's command line; not sent.")
  String clientId;

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      converter = OptionValues.Duration.class,
      description = "Time allowed for all replies, e.g. 30s (default revproxy.client.timeout).")
  String timeout;

  @Option(
      names = "--expect-workers",
      paramLabel = "POLICY=COUNT",
      split = ",",
      description = {
        "Wait until POLICY is served by COUNT distinct workers before sending (probing with real",
        "requests), and, if at least COUNT of its packets are sent, fail unless they were spread",
        "over that many workers (repeatable)."
      })
  Map<String, Integer> expectWorkers = new LinkedHashMap<>();

  @Option(
      names = "--wait",
      paramLabel = "DURATION",
      converter = OptionValues.Duration.class,
      description =
          "How long --expect-workers may wait, e.g. 60s (default revproxy.client.readiness-wait).")
  String readinessWait;

  @Option(
      names = "--tls",
      paramLabel = "DIR",
      description = {
        "Connect with TLS, trusting only a proxy certificate of DIR's CA (scripts/make-certs.sh);",
        "DIR's node.p12, if present, is the client certificate."
      })
  Path tls;

  @Mixin ConfigOption configOption;

  @Parameters(
      arity = "0..*",
      paramLabel = "PACKETS",
      description = "Packet files (one JSON request each) or directories of *.json files.")
  List<Path> packetPaths = new ArrayList<>();

  @Override
  public Integer call() {
    Logging.warningsOnly();
    List<Path> paths = new ArrayList<>(pktFiles);
    paths.addAll(packetPaths);
    if (paths.isEmpty()) {
      throw new IllegalArgumentException(
          "no packet files given: name files or directories, or use -pkt FILE");
    }
    List<PacketFile> packets = PacketFile.load(paths);
    Config config =
        configOption
            .nodeConfig()
            .set("akka.actor.provider", "local")
            .set("akka.loglevel", "WARNING")
            .set("revproxy.client.host", host)
            .set("revproxy.client.port", port)
            .set(
                "revproxy.client.proxies",
                proxies == null ? null : proxies.stream().map(HostPort::toString).toList())
            .set("revproxy.client.timeout", timeout)
            .set("revproxy.client.readiness-wait", readinessWait)
            .set("revproxy.client.tls", Objects.toString(tls, null))
            .build();
    ClientSettings settings = ClientSettings.fromConfig(config);
    if (configOption.check) {
      return ConfigCheck.print(spec.commandLine().getOut(), "client", config, false, "client");
    }
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "client", config);
    try {
      return ClientRun.run(
          new ProxyClient(system, settings),
          packets,
          expectWorkers,
          settings.readinessWait(),
          System.out);
    } finally {
      system.terminate();
    }
  }
}
