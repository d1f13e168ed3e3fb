package revproxy.proxy;

import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.SupervisorStrategy;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.StashBuffer;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.SelfUp;
import akka.cluster.typed.Subscribe;
import java.net.InetSocketAddress;
import java.util.Set;
import revproxy.cluster.BindFailure;
import revproxy.legacy.LegacyRegistry;
import revproxy.legacy.LegacySettings;
import revproxy.ops.NodeStatus;

/**
 * The proxy part of a node (a child of the node's guardian). Once the node is Up it starts the
 * {@link RouterActor} and the {@link LegacyRegistry}, then binds the {@link ProxyServer}; a
 * failure to bind stops the node, with a {@link BindFailure} as the reason. {@link GetAddress}
 * answers once bound.
 */
public final class ProxyNode {

  public interface Command {}

  /** Answered with the bound TCP address once the proxy listens. */
  public record GetAddress(ActorRef<InetSocketAddress> replyTo) implements Command {}

  private record NodeUp(SelfUp up) implements Command {}

  private record Bound(ProxyServer.Running running) implements Command {}

  private record BindFailed(Throwable cause) implements Command {}

  public static Behavior<Command> create(ProxySettings settings, LegacySettings legacySettings) {
    return Behaviors.withStash(
        100,
        stash ->
            Behaviors.setup(
                context -> {
                  Cluster.get(context.getSystem())
                      .subscriptions()
                      .tell(
                          Subscribe.create(
                              context.messageAdapter(SelfUp.class, NodeUp::new), SelfUp.class));
                  return Behaviors.receive(Command.class)
                      .onMessage(
                          NodeUp.class,
                          up -> {
                            // A bug in routing must not take the proxy down: restart it.
                            ActorRef<RouterActor.Command> router =
                                context.spawn(
                                    Behaviors.supervise(RouterActor.create(settings))
                                        .onFailure(SupervisorStrategy.restart()),
                                    "router");
                            NodeStatus.get(context.getSystem()).routerStarted(router);
                            // No registration may point the proxy at its own cluster port.
                            int clusterPort =
                                Cluster.get(context.getSystem()).selfMember().address().getPort().orElse(-1);
                            ActorRef<LegacyRegistry.Command> legacyServers =
                                context.spawn(
                                    LegacyRegistry.create(legacySettings, Set.of(clusterPort)),
                                    "legacy-servers");
                            context.pipeToSelf(
                                ProxyServer.bind(
                                    context.getSystem(),
                                    router,
                                    legacyServers,
                                    settings,
                                    legacySettings.registration()),
                                (binding, failure) ->
                                    binding != null ? new Bound(binding) : new BindFailed(failure));
                            return starting(stash, settings);
                          })
                      .onMessage(GetAddress.class, get -> stashed(stash, get))
                      .build();
                }));
  }

  /** How clients reach the proxy, for its "listening" line. */
  private static String transport(ProxySettings settings) {
    if (settings.clientTls().isEmpty()) {
      return "plain TCP";
    }
    return settings.requireClientAuth() ? "TLS, client certificates required" : "TLS";
  }

  private static Behavior<Command> starting(StashBuffer<Command> stash, ProxySettings settings) {
    return Behaviors.receive(Command.class)
        .onMessage(
            Bound.class,
            bound ->
                Behaviors.setup(
                    context -> {
                      ProxyServer.Running running = bound.running();
                      context
                          .getLog()
                          .info(
                              "Proxy listening on {} ({})",
                              running.localAddress(),
                              transport(settings));
                      NodeStatus.get(context.getSystem()).proxyListening(true);
                      drainOnShutdown(context.getSystem(), running);
                      return stash.unstashAll(listening(running.localAddress()));
                    }))
        .onMessage(
            BindFailed.class,
            failed ->
                Behaviors.setup(
                    context -> {
                      // The command that runs the node says why in one line, and exits 1.
                      CoordinatedShutdown.get(context.getSystem())
                          .runAll(
                              BindFailure.of(
                                  "client port", settings.host(), settings.port(), failed.cause()));
                      return Behaviors.stopped();
                    }))
        .onMessage(GetAddress.class, get -> stashed(stash, get))
        .build();
  }

  /**
   * On shutdown (SIGTERM, leaving the cluster) the proxy first stops accepting connections, then
   * stops reading new requests and answers those in flight, closing each connection once it has;
   * the phase timeout of service-requests-done bounds the wait. Only then does the node leave.
   */
  private static void drainOnShutdown(ActorSystem<?> system, ProxyServer.Running running) {
    CoordinatedShutdown shutdown = CoordinatedShutdown.get(system);
    shutdown.addTask(
        CoordinatedShutdown.PhaseServiceUnbind(),
        "proxy-unbind",
        () -> {
          // Not ready any more: load balancers in front stop sending new clients here.
          NodeStatus.get(system).proxyListening(false);
          return running.unbind();
        });
    shutdown.addTask(
        CoordinatedShutdown.PhaseServiceRequestsDone(),
        "proxy-drain",
        () -> {
          system.log().info("Draining {} client connection(s)", running.connections().connections());
          return running.connections().drain();
        });
  }

  private static Behavior<Command> listening(InetSocketAddress address) {
    return Behaviors.receive(Command.class)
        .onMessage(
            GetAddress.class,
            get -> {
              get.replyTo().tell(address);
              return Behaviors.same();
            })
        .build();
  }

  private static Behavior<Command> stashed(StashBuffer<Command> stash, Command command) {
    stash.stash(command);
    return Behaviors.same();
  }
}
