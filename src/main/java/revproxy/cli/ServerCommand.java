package revproxy.cli;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.stream.javadsl.Tcp;
import com.typesafe.config.Config;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import revproxy.cluster.BindFailure;
import revproxy.node.Termination;
import revproxy.protocol.Packet;
import revproxy.server.HashServer;
import revproxy.server.ProxyRegistration;
import revproxy.server.ServerSettings;

@Command(
    name = "server",
    mixinStandardHelpOptions = true,
    description = {
      "Run a legacy-mode backend server for the proxy: a Java server.py.",
      "It listens on a TCP port, registers with the proxy with a type \"1\" packet,",
      "and answers each type \"0\" request with the SHA-1 of its payload; the proxy",
      "puts it in the round robin of its policy beside the cluster's workers.",
      "The original's single-dash options (-id -pp -listen -revproc) work too.",
      "Runs until SIGTERM/Ctrl-C."
    })
public final class ServerCommand implements Callable<Integer> {

  private static final Logger log = LoggerFactory.getLogger(ServerCommand.class);

  @Spec CommandSpec spec;

  @Option(
      names = {"--id", "-id"},
      paramLabel = "ID",
      required = true,
      converter = OptionValues.Id.class,
      description = "Server id, sent back as the srcid of every reply.")
  String id;

  @Option(
      names = {"--policy", "-pp"},
      paramLabel = "POLICY",
      required = true,
      converter = OptionValues.Id.class,
      description = "Privacy-policy id this server serves.")
  String policy;

  @Option(
      names = {"--listen", "-listen"},
      paramLabel = "PORT",
      required = true,
      converter = OptionValues.ListenPort.class,
      description = "TCP port to listen on; 0 = any free port (the bound port is registered).")
  Integer listenPort;

  @Option(
      names = "--listen-host",
      paramLabel = "HOST",
      converter = OptionValues.Host.class,
      description = "Address to listen on (default 127.0.0.1).")
  String listenHost;

  @Option(
      names = {"--proxy-port", "-revproc"},
      paramLabel = "PORT",
      converter = OptionValues.Port.class,
      description = "Port of the proxy to register with (default 2100).")
  Integer proxyPort;

  @Option(
      names = "--proxy-host",
      paramLabel = "HOST",
      converter = OptionValues.Host.class,
      description = "Address of the proxy to register with (default 127.0.0.1).")
  String proxyHost;

  @Option(
      names = "--token",
      paramLabel = "SECRET",
      description = {
        "Registration token the proxy requires (revproxy.legacy.registration.token). Other",
        "processes can read command lines: prefer the environment variable",
        "REVPROXY_REGISTRATION_TOKEN, which is used when this option is not given."
      })
  String token;

  @Mixin ConfigOption configOption;

  @Override
  public Integer call() throws InterruptedException {
    Config config =
        configOption
            .nodeConfig()
            .set("akka.actor.provider", "local")
            .set("revproxy.server.host", listenHost)
            .set("revproxy.server.proxy-host", proxyHost)
            .set("revproxy.server.proxy-port", proxyPort)
            .set("revproxy.server.token", token)
            .build();
    ServerSettings settings = ServerSettings.fromConfig(config);
    if (configOption.check) {
      return ConfigCheck.print(spec.commandLine().getOut(), "server", config, false, "server");
    }
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "server", config);

    // Listen first, then register: the proxy connects as soon as it has the registration.
    Tcp.ServerBinding binding;
    try {
      binding =
          HashServer.bind(system, settings.host(), listenPort, id, settings.maxPacketBytes())
              .toCompletableFuture()
              .get();
    } catch (ExecutionException e) {
      stop(system);
      throw new IllegalStateException(
          BindFailure.of("listen port", settings.host(), listenPort, e).message());
    }
    int port = binding.localAddress().getPort();
    try {
      ProxyRegistration.registerWithRetries(
              system,
              new Packet.Registration(id, policy, port, settings.connections(), settings.token()),
              settings)
          .toCompletableFuture()
          .get();
    } catch (ExecutionException e) {
      log.error("Server {}: {}; giving up", id, e.getCause().getMessage());
      return stop(system);
    }
    log.info(
        "Server {} (policy {}) listening on {}:{}, registered with the proxy at {}:{}",
        id,
        policy,
        binding.localAddress().getAddress().getHostAddress(),
        port,
        settings.proxyHost(),
        settings.proxyPort());
    return Nodes.awaitTermination(system);
  }

  private static int stop(ActorSystem<?> system) throws InterruptedException {
    system.terminate();
    Termination.await(system, Termination.GRACE);
    return 1;
  }
}
