package revproxy.ops;

import akka.actor.ActorSystem;
import akka.actor.typed.javadsl.Adapter;
import akka.cluster.Cluster;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import revproxy.cluster.Roles;

/**
 * The node's part of {@code /ready} (beside akka-management's cluster membership check, which wants
 * the node Up or WeaklyUp): a proxy node is ready once it listens for clients, a worker node once
 * its workers are registered with the receptionist; a proxy with local workers needs both.
 */
public final class NodeReadyCheck implements Supplier<CompletionStage<Boolean>> {

  private final ActorSystem system;

  /** Created by akka-management from {@code akka.management.health-checks.readiness-checks}. */
  public NodeReadyCheck(ActorSystem system) {
    this.system = system;
  }

  @Override
  public CompletionStage<Boolean> get() {
    NodeStatus status = NodeStatus.get(Adapter.toTyped(system));
    akka.cluster.Member self = Cluster.get(system).selfMember();
    boolean ready =
        (!self.hasRole(Roles.PROXY) || status.proxyListening())
            && (!self.hasRole(Roles.WORKER) || status.workersRegistered());
    return CompletableFuture.completedFuture(ready);
  }
}
