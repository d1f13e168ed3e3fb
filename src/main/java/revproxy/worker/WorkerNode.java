package revproxy.worker;

import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.SelfUp;
import akka.cluster.typed.Subscribe;
import java.util.List;

/**
 * Guardian of a worker node: once this node is Up in the cluster, it starts one {@link HashWorker}
 * per {@link WorkerSpec}; each registers itself with the receptionist.
 */
public final class WorkerNode {

  private WorkerNode() {}

  public static Behavior<SelfUp> create(List<WorkerSpec> workers) {
    return Behaviors.setup(
        context -> {
          Cluster.get(context.getSystem())
              .subscriptions()
              .tell(Subscribe.create(context.getSelf(), SelfUp.class));
          return Behaviors.receiveMessage(
              up -> {
                context.getLog().info("Node is Up; starting workers {}", workers);
                for (WorkerSpec worker : workers) {
                  context.spawn(
                      HashWorker.create(worker.id(), worker.policyId()), "worker-" + worker.id());
                }
                return Behaviors.ignore();
              });
        });
  }
}
