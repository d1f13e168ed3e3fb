package revproxy.node;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.Terminated;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.Member;
import akka.cluster.typed.Cluster;
import com.typesafe.config.Config;
import java.net.InetSocketAddress;
import java.util.List;
import revproxy.legacy.LegacySettings;
import revproxy.proxy.ProxyNode;
import revproxy.proxy.ProxySettings;
import revproxy.worker.WorkerNode;
import revproxy.worker.WorkerSettings;
import revproxy.worker.WorkerSpec;

/**
 * The guardian of every node, whatever it runs: it branches on the node's cluster roles, as {@code
 * RootBehavior} does in Lightbend's cluster samples. A node with the {@code proxy} role runs a
 * {@link ProxyNode}; a node with the {@code worker} role runs a {@link WorkerNode} with its
 * workers. A proxy with local workers carries both roles and runs both, the same way. If the
 * proxy stops (it could not bind its port), so does the node.
 */
public final class NodeGuardian {

  public static final String PROXY_ROLE = "proxy";
  public static final String WORKER_ROLE = "worker";

  public interface Command {}

  /** Answered with the proxy's bound client address once it listens (proxy nodes only). */
  public record GetProxyAddress(ActorRef<InetSocketAddress> replyTo) implements Command {}

  private NodeGuardian() {}

  /** {@code workers}: the workers of a node with the {@code worker} role. */
  public static Behavior<Command> create(Config config, List<WorkerSpec> workers) {
    return Behaviors.setup(
        context -> {
          Member self = Cluster.get(context.getSystem()).selfMember();
          ActorRef<ProxyNode.Command> proxy = null;
          if (self.hasRole(PROXY_ROLE)) {
            proxy =
                context.spawn(
                    ProxyNode.create(
                        ProxySettings.fromConfig(config), LegacySettings.fromConfig(config)),
                    "proxy");
            context.watch(proxy);
          }
          if (self.hasRole(WORKER_ROLE)) {
            context.spawn(
                WorkerNode.create(workers, WorkerSettings.fromConfig(config)), "workers");
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
              .onSignal(Terminated.class, stopped -> Behaviors.stopped())
              .build();
        });
  }
}
