package revproxy.demo;

import akka.actor.Address;
import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.AskPattern;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import revproxy.client.ClientRun;
import revproxy.client.ClientSettings;
import revproxy.client.PacketFile;
import revproxy.client.ProxyClient;
import revproxy.cluster.BindFailure;
import revproxy.cluster.NodeConfig;
import revproxy.cluster.Roles;
import revproxy.node.NodeGuardian;
import revproxy.node.Termination;
import revproxy.proxy.ProxySettings;
import revproxy.worker.WorkerSpec;

/**
 * The whole system in one JVM: a proxy node and two worker nodes as three ActorSystems forming one
 * cluster over Artery on loopback (so every message between them is really serialized), then the
 * client over the sample packets.
 *
 * <p>The topology of the original tutorial: workers 100 (policy 111) and 200 (222) on node A, 300
 * (111) and 400 (222) on node B, so each policy spans both nodes.
 */
public final class Demo {

  public static final List<WorkerSpec> NODE_A =
      List.of(new WorkerSpec("100", "111"), new WorkerSpec("200", "222"));
  public static final List<WorkerSpec> NODE_B =
      List.of(new WorkerSpec("300", "111"), new WorkerSpec("400", "222"));
  public static final Map<String, Integer> WORKERS_PER_POLICY = Map.of("111", 2, "222", 2);

  private static final Duration STARTUP = Duration.ofSeconds(30);

  private Demo() {}

  /** Runs the demo and returns the exit status (0 only if every packet verified). */
  public static int run(Config config, List<PacketFile> packets, PrintStream out) throws Exception {
    Config inJvm =
        config
            .withValue("akka.remote.artery.canonical.port", ConfigValueFactory.fromAnyRef(0))
            .withValue("akka.cluster.seed-nodes", ConfigValueFactory.fromIterable(List.of()))
            .withValue(
                "akka.cluster.jmx.multi-mbeans-in-same-jvm", ConfigValueFactory.fromAnyRef("on"));
    List<ActorSystem<?>> systems = new ArrayList<>();
    try {
      ActorSystem<NodeGuardian.Command> proxy =
          ActorSystem.create(
              NodeGuardian.create(withRole(inJvm, Roles.PROXY), List.of()),
              NodeConfig.SYSTEM_NAME,
              withRole(inJvm, Roles.PROXY));
      systems.add(proxy);
      Address seed = Cluster.get(proxy).selfMember().address();
      Cluster.get(proxy).manager().tell(Join.create(seed));
      for (List<WorkerSpec> node : List.of(NODE_A, NODE_B)) {
        Config workerConfig = withRole(inJvm, Roles.WORKER);
        ActorSystem<?> worker =
            ActorSystem.create(
                NodeGuardian.create(workerConfig, node), NodeConfig.SYSTEM_NAME, workerConfig);
        systems.add(worker);
        Cluster.get(worker).manager().tell(Join.create(seed));
      }
      out.printf(
          "Demo cluster: proxy node %s, worker node A %s, worker node B %s%n",
          seed, NODE_A, NODE_B);

      InetSocketAddress address = awaitListening(proxy);
      out.printf("Proxy listening on %s:%d%n", address.getHostString(), address.getPort());
      ClientSettings clientSettings =
          ClientSettings.fromConfig(config).withAddress(address.getHostString(), address.getPort());
      if (clientSettings.tls().isEmpty()) {
        // A proxy configured with client-tls gets a TLS client, with the proxy's own files.
        clientSettings = clientSettings.withTls(ProxySettings.fromConfig(config).clientTls());
      }
      return ClientRun.run(
          new ProxyClient(proxy, clientSettings), packets, WORKERS_PER_POLICY, STARTUP, out);
    } finally {
      // Worker nodes leave first, so the proxy sees them go instead of losing connections.
      for (int i = systems.size() - 1; i >= 0; i--) {
        ActorSystem<?> system = systems.get(i);
        system.terminate();
        // Bounded: over TLS, a node whose peers stay up can keep Artery's streams open past its
        // coordinated shutdown (CI runs of FatJarIT: never terminated). The JVM exits anyway;
        // the exit status is the client's verdict.
        Termination.await(system, Termination.GRACE);
      }
    }
  }

  private static Config withRole(Config config, String role) {
    return ConfigFactory.parseString("akka.cluster.roles = [" + role + "]").withFallback(config);
  }

  /** The bound address, or an error saying which port the proxy node could not bind. */
  private static InetSocketAddress awaitListening(ActorSystem<NodeGuardian.Command> proxy)
      throws Exception {
    CompletableFuture<InetSocketAddress> listening =
        AskPattern.<NodeGuardian.Command, InetSocketAddress>ask(
                proxy, NodeGuardian.GetProxyAddress::new, STARTUP, proxy.scheduler())
            .toCompletableFuture();
    Object first =
        CompletableFuture.anyOf(listening, proxy.getWhenTerminated().toCompletableFuture()).get();
    if (first instanceof InetSocketAddress address) {
      return address;
    }
    Object reason = CoordinatedShutdown.get(proxy).getShutdownReason().orElse(null);
    throw new IllegalStateException(
        reason instanceof BindFailure failure
            ? failure.message() + "; try --port 0"
            : "the proxy node stopped before it listened");
  }
}
