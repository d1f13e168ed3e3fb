package revproxy.proxy;

import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.SupervisorStrategy;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.StashBuffer;
import akka.cluster.ClusterEvent;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Subscribe;
import java.net.InetSocketAddress;
import java.util.HashSet;
import java.util.Set;
import revproxy.cluster.BindFailure;
import revproxy.legacy.LegacyRegistry;
import revproxy.legacy.LegacySettings;
import revproxy.ops.NodeStatus;

/**
 * The proxy part of a node (a child of the node's guardian). Once the node is WeaklyUp or Up it
 * starts the {@link RouterActor} and the {@link LegacyRegistry}, then binds the {@link
 * ProxyServer}; a failure to bind stops the node, with a {@link BindFailure} as the reason. {@link
 * GetAddress} answers once bound.
 */
public final class ProxyNode {

  public interface Command {}

  /** Answered with the bound TCP address once the proxy listens. */
  public record GetAddress(ActorRef<InetSocketAddress> replyTo) implements Command {}

  private record MemberChanged(ClusterEvent.MemberEvent event) implements Command {}

  /**
   * A proxy serves from WeaklyUp as from Up: a proxy restarted while some member is unreachable (a
   * crashed node not downed yet) cannot become Up, and need not wait to serve clients.
   */
  private static boolean serving(MemberStatus status) {
    return status == MemberStatus.weaklyUp() || status == MemberStatus.up();
  }

  /** The ports no registration may name: the cluster port, and the management port if any. */
  private static Set<Integer> ownPorts(ActorContext<Command> context) {
    Set<Integer> ports = new HashSet<>();
    Cluster.get(context.getSystem()).selfMember().address().getPort().ifPresent(ports::add);
    com.typesafe.config.Config config = context.getSystem().settings().config();
    if (config.getBoolean("revproxy.management.enabled")) {
      ports.add(config.getInt("akka.management.http.port"));
    }
    return ports;
  }

  private record Bound(ProxyServer.Running running) implements Command {}

  private record BindFailed(Throwable cause) implements Command {}

  public static Behavior<Command> create(ProxySettings settings, LegacySettings legacySettings) {
    return Behaviors.withStash(
        100,
        stash ->
            Behaviors.setup(
                context -> {
                  Cluster cluster = Cluster.get(context.getSystem());
                  cluster
                      .subscriptions()
                      .tell(
                          Subscribe.create(
                              context.messageAdapter(
                                  ClusterEvent.MemberEvent.class, MemberChanged::new),
                              ClusterEvent.MemberEvent.class));
                  return Behaviors.receive(Command.class)
                      .onMessage(
                          MemberChanged.class,
                          changed -> {
                            if (!changed
                                    .event()
                                    .member()
                                    .uniqueAddress()
                                    .equals(cluster.selfMember().uniqueAddress())
                                || !serving(changed.event().member().status())) {
                              return Behaviors.same();
                            }
                            // A bug in routing must not take the proxy down: restart it.
                            ActorRef<RouterActor.Command> router =
                                context.spawn(
                                    Behaviors.supervise(RouterActor.create(settings))
                                        .onFailure(SupervisorStrategy.restart()),
                                    "router");
                            NodeStatus.get(context.getSystem()).routerStarted(router);
                            ActorRef<LegacyRegistry.Command> legacyServers =
                                context.spawn(
                                    LegacyRegistry.create(legacySettings, ownPorts(context)),
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
        .onMessage(MemberChanged.class, changed -> Behaviors.same())
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
          system
              .log()
              .info("Draining {} client connection(s)", running.connections().connections());
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
        .onMessage(MemberChanged.class, changed -> Behaviors.same())
        .build();
  }

  private static Behavior<Command> stashed(StashBuffer<Command> stash, Command command) {
    stash.stash(command);
    return Behaviors.same();
  }
}
