package revproxy.node;

import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.DispatcherSelector;
import akka.actor.typed.Terminated;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.Member;
import akka.cluster.typed.Cluster;
import akka.management.cluster.bootstrap.ClusterBootstrap;
import akka.management.javadsl.AkkaManagement;
import com.typesafe.config.Config;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import revproxy.cluster.BindFailure;
import revproxy.cluster.NodeConfig;
import revproxy.cluster.Roles;
import revproxy.legacy.LegacySettings;
import revproxy.proxy.ProxyNode;
import revproxy.proxy.ProxySettings;
import revproxy.util.Completions;
import revproxy.worker.WorkerNode;
import revproxy.worker.WorkerSettings;
import revproxy.worker.WorkerSpec;

/**
 * The guardian of every node, whatever it runs: it branches on the node's cluster roles, as {@code
 * RootBehavior} does in Lightbend's cluster samples. A node with the {@code proxy} role runs a
 * {@link ProxyNode}; a node with the {@code worker} role runs a {@link WorkerNode} with its
 * workers. A proxy with local workers carries both roles and runs both, the same way. It starts the
 * node's management endpoint when the node has one, and once it is up, Cluster Bootstrap when the
 * node bootstraps ({@code revproxy.cluster.bootstrap}). If the proxy stops (it could not bind its
 * port), or the management endpoint cannot bind its own, the node stops.
 */
public final class NodeGuardian {

  public interface Command {}

  /** Answered with the proxy's bound client address once it listens (proxy nodes only). */
  public record GetProxyAddress(ActorRef<InetSocketAddress> replyTo) implements Command {}

  private NodeGuardian() {}

  /** {@code workers}: the workers of a node with the {@code worker} role. */
  public static Behavior<Command> create(Config config, List<WorkerSpec> workers) {
    return Behaviors.setup(
        context -> {
          boolean bootstrap = config.getBoolean(NodeConfig.BOOTSTRAP);
          StableLeave.register(
              context.getSystem(),
              config.getDuration("revproxy.cluster.leave-wait-while-unreachable"));
          Member self = Cluster.get(context.getSystem()).selfMember();
          ActorRef<ProxyNode.Command> proxy = null;
          if (self.hasRole(Roles.PROXY)) {
            proxy =
                context.spawn(
                    ProxyNode.create(
                        ProxySettings.fromConfig(config), LegacySettings.fromConfig(config)),
                    "proxy");
            context.watch(proxy);
          }
          if (self.hasRole(Roles.WORKER)) {
            context.spawn(WorkerNode.create(workers, WorkerSettings.fromConfig(config)), "workers");
          }
          // After the node's own parts, and off this thread: AkkaManagement.start() took 2-4 s
          // of a restarted node's start on a busy machine, and the proxy and workers waited for
          // it when it ran here first (they start once the node is WeaklyUp).
          if (config.getBoolean("revproxy.management.enabled")) {
            startManagement(context);
          }
          ActorRef<ProxyNode.Command> proxyNode = proxy;
          return Behaviors.receive(Command.class)
              .onMessage(
                  GetProxyAddress.class,
                  get -> {
                    if (proxyNode != null) {
                      proxyNode.tell(new ProxyNode.GetAddress(get.replyTo()));
                    }
                    return Behaviors.same();
                  })
              .onMessage(
                  ManagementStarted.class,
                  started -> {
                    if (bootstrap) {
                      startBootstrap(context);
                    }
                    return Behaviors.same();
                  })
              .onMessage(ManagementFailed.class, failed -> Behaviors.stopped())
              .onSignal(Terminated.class, stopped -> Behaviors.stopped())
              .build();
        });
  }

  private record ManagementStarted() implements Command {}

  private record ManagementFailed() implements Command {}

  /**
   * Starts the management endpoint; if its port cannot be bound, stops the node with a {@link
   * BindFailure} as the reason, which the command says in one line.
   */
  private static void startManagement(ActorContext<Command> context) {
    akka.actor.ActorSystem classic = context.getSystem().classicSystem();
    String host = classic.settings().config().getString("akka.management.http.hostname");
    int port = classic.settings().config().getInt("akka.management.http.port");
    ActorRef<Command> self = context.getSelf();
    // start() builds the routes and binds on the calling thread (2-4 s on a busy machine): on the
    // blocking dispatcher, not on one of the few threads that carry the node's requests.
    Executor blocking = context.getSystem().dispatchers().lookup(DispatcherSelector.blocking());
    CompletableFuture.supplyAsync(() -> AkkaManagement.get(classic).start(), blocking)
        .thenCompose(started -> started)
        .whenCompleteAsync(
            (uri, failure) -> {
              if (failure != null) {
                CoordinatedShutdown.get(classic)
                    .runAll(BindFailure.of("management port", host, port, failure));
                self.tell(new ManagementFailed());
              } else {
                self.tell(new ManagementStarted());
              }
            },
            Completions.SAME_THREAD);
  }

  /**
   * Bootstrap probes the other nodes' management endpoints, and they probe this one: it starts once
   * this node's endpoint answers.
   */
  private static void startBootstrap(ActorContext<Command> context) {
    context
        .getLog()
        .info(
            "Starting Cluster Bootstrap: joining the cluster the discovered nodes report, or"
                + " forming one with them");
    ClusterBootstrap.get(context.getSystem().classicSystem()).start();
  }
}
