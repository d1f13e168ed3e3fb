package revproxy.worker;

import akka.Done;
import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.receptionist.Receptionist;
import akka.cluster.ClusterEvent;
import akka.cluster.Member;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Down;
import akka.cluster.typed.SelfUp;
import akka.cluster.typed.Subscribe;
import com.typesafe.config.Config;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Set;
import revproxy.ops.NodeStatus;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import revproxy.routee.Routee;

/**
 * The worker part of a node (a child of the node's guardian, on worker nodes and on a proxy with
 * local workers alike). Once this node is Up in the cluster, it starts one {@link HashWorker} per
 * {@link WorkerSpec}; each registers itself with the receptionist.
 *
 * <p>On shutdown it first deregisters its workers and keeps serving for {@code
 * deregistration-grace}, so the proxy stops routing to them before the node leaves. While Up, it
 * watches for a proxy: a node that has seen no reachable proxy for {@code proxy-lost-timeout}
 * downs itself, and its command starts it again to join the seeds (a restarted proxy starts a new
 * cluster; the old one would otherwise keep its workers). A bootstrapping node does not: there a
 * restarted proxy joins the workers' cluster.
 */
public final class WorkerNode {

  public interface Command {}

  private record NodeUp(SelfUp up) implements Command {}

  private record WorkerRegistered(Receptionist.Registered ack) implements Command {}

  private enum CheckProxy implements Command {
    INSTANCE
  }

  private static final Duration CHECK_INTERVAL = Duration.ofSeconds(1);

  private WorkerNode() {}

  public static Behavior<Command> create(List<WorkerSpec> workers, WorkerSettings settings) {
    return Behaviors.setup(
        context -> {
          Cluster.get(context.getSystem())
              .subscriptions()
              .tell(
                  Subscribe.create(
                      context.messageAdapter(SelfUp.class, NodeUp::new), SelfUp.class));
          return Behaviors.receive(Command.class)
              .onMessage(NodeUp.class, up -> startWorkers(context, workers, settings))
              .build();
        });
  }

  private static Behavior<Command> startWorkers(
      ActorContext<Command> context, List<WorkerSpec> workers, WorkerSettings settings) {
    context.getLog().info("Node is Up; starting workers {}", workers);
    ActorRef<Receptionist.Registered> acks =
        context.messageAdapter(Receptionist.Registered.class, WorkerRegistered::new);
    List<Registered> registered = new ArrayList<>();
    for (WorkerSpec worker : workers) {
      ActorRef<Routee.Command> ref =
          context.spawn(
              HashWorker.create(worker.id(), worker.policyId(), acks), "worker-" + worker.id());
      registered.add(new Registered(worker, ref));
    }
    deregisterOnShutdown(context.getSystem(), registered, settings.deregistrationGrace());
    Set<ActorRef<?>> unacknowledged = new HashSet<>();
    for (Registered worker : registered) {
      unacknowledged.add(worker.ref());
    }
    return Behaviors.withTimers(
        timers -> {
          if (settings.proxyLostTimeout().isPresent()) {
            timers.startTimerWithFixedDelay(CheckProxy.INSTANCE, CHECK_INTERVAL);
          }
          return watchingProxy(context, settings, System.nanoTime(), unacknowledged);
        });
  }

  /** The receptionist has a worker: once it has all of them, the node is ready. */
  private static void acknowledged(
      ActorContext<Command> context, Receptionist.Registered ack, Set<ActorRef<?>> unacknowledged) {
    if (unacknowledged.remove(ack.getServiceInstance(ack.getKey())) && unacknowledged.isEmpty()) {
      NodeStatus.get(context.getSystem()).workersRegistered(true);
      context.getLog().info("Workers registered with the receptionist: this node is ready");
    }
  }

  private record Registered(WorkerSpec spec, ActorRef<Routee.Command> ref) {}

  private static void deregisterOnShutdown(
      ActorSystem<?> system, List<Registered> workers, Duration grace) {
    CoordinatedShutdown.get(system)
        .addTask(
            CoordinatedShutdown.PhaseBeforeServiceUnbind(),
            "deregister-workers",
            () -> {
              NodeStatus.get(system).workersRegistered(false);
              system.log().info("Deregistering workers; serving {} ms more before leaving", grace.toMillis());
              for (Registered worker : workers) {
                system
                    .receptionist()
                    .tell(
                        Receptionist.deregister(
                            Routee.serviceKey(worker.spec().policyId()), worker.ref()));
              }
              CompletableFuture<Done> graceOver = new CompletableFuture<>();
              system
                  .scheduler()
                  .scheduleOnce(
                      grace, () -> graceOver.complete(Done.getInstance()), system.executionContext());
              return graceOver;
            });
  }

  private static Behavior<Command> watchingProxy(
      ActorContext<Command> context,
      WorkerSettings settings,
      long lastSeenNanos,
      Set<ActorRef<?>> unacknowledged) {
    return Behaviors.receive(Command.class)
        .onMessage(
            WorkerRegistered.class,
            registered -> {
              acknowledged(context, registered.ack(), unacknowledged);
              return Behaviors.same();
            })
        .onMessage(
            CheckProxy.class,
            check -> {
              long now = System.nanoTime();
              if (reachableProxyIsUp(Cluster.get(context.getSystem()).state())) {
                return watchingProxy(context, settings, now, unacknowledged);
              }
              Duration timeout = settings.proxyLostTimeout().orElseThrow();
              if (Duration.ofNanos(now - lastSeenNanos).compareTo(timeout) < 0) {
                return Behaviors.same();
              }
              context
                  .getLog()
                  .warn(
                      "No reachable proxy for {} s: restarting this node to join the seeds again",
                      timeout.toSeconds());
              // Leaving gracefully cannot complete while the old proxy is unreachable: this node
              // downs itself, which shuts it down at once (for the command to restart it).
              Cluster cluster = Cluster.get(context.getSystem());
              cluster.manager().tell(new Down(cluster.selfMember().address()));
              return Behaviors.ignore();
            })
        .build();
  }

  private static boolean reachableProxyIsUp(ClusterEvent.CurrentClusterState state) {
    for (Member member : state.getMembers()) {
      if (member.hasRole("proxy")
          && member.status() == MemberStatus.up()
          && !state.getUnreachable().contains(member)) {
        return true;
      }
    }
    return false;
  }
}
