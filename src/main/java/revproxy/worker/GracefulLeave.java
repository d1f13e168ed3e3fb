package revproxy.worker;

import akka.Done;
import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.AskPattern;
import akka.actor.typed.receptionist.Receptionist;
import akka.cluster.Member;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import akka.pattern.Patterns;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import revproxy.cluster.Roles;
import revproxy.ops.NodeStatus;
import revproxy.routee.Routee;
import revproxy.util.Completions;

/**
 * How a worker node leaves, in the coordinated shutdown's first phase, before the node leaves the
 * cluster: (1) it keeps serving, up to {@code replacement-wait}, while a member is unreachable (its
 * leave could not complete before that member is downed, and in a small cluster a node leaving at
 * that moment makes the Split Brain Resolver's safety rule down every node), and while it holds the
 * last worker of one of its policies and another worker node is joining, until that node's worker
 * is listed; (2) it deregisters its workers; (3) it serves what still arrives for {@code
 * deregistration-grace}, while the proxies hear that its workers are gone.
 */
final class GracefulLeave {

  private static final Duration POLL = Duration.ofMillis(200);
  private static final Duration FIND_TIMEOUT = Duration.ofSeconds(1);

  /** One of this node's workers. */
  record Worker(WorkerSpec spec, ActorRef<Routee.Command> ref) {}

  private GracefulLeave() {}

  static void register(ActorSystem<?> system, List<Worker> workers, WorkerSettings settings) {
    CoordinatedShutdown.get(system)
        .addTask(
            CoordinatedShutdown.PhaseBeforeServiceUnbind(),
            "revproxy-worker-leave",
            () -> {
              NodeStatus.get(system).workersRegistered(false);
              long deadline = System.nanoTime() + settings.replacementWait().toNanos();
              return awaitReplacements(system, workers, deadline)
                  .thenComposeAsync(
                      done -> deregister(system, workers, settings), Completions.SAME_THREAD);
            });
  }

  private static CompletionStage<Done> deregister(
      ActorSystem<?> system, List<Worker> workers, WorkerSettings settings) {
    system
        .log()
        .info(
            "Deregistering workers; serving {} ms more before leaving",
            settings.deregistrationGrace().toMillis());
    for (Worker worker : workers) {
      system
          .receptionist()
          .tell(Receptionist.deregister(Routee.serviceKey(worker.spec().policyId()), worker.ref()));
    }
    return Patterns.after(
        settings.deregistrationGrace(),
        system,
        () -> CompletableFuture.completedStage(Done.getInstance()));
  }

  /** Completes once no policy depends on this node alone while a replacement joins, or by then. */
  private static CompletionStage<Done> awaitReplacements(
      ActorSystem<?> system, List<Worker> workers, long deadlineNanos) {
    Set<akka.cluster.Member> unreachable = Cluster.get(system).state().getUnreachable();
    if (!unreachable.isEmpty()) {
      if (System.nanoTime() - deadlineNanos >= 0) {
        system.log().warn("Leaving although {} is still unreachable", unreachable);
        return CompletableFuture.completedStage(Done.getInstance());
      }
      system.log().info("Waiting to leave while {} is unreachable", unreachable);
      return Patterns.after(POLL, system, () -> awaitReplacements(system, workers, deadlineNanos));
    }
    if (!anotherWorkerNodeJoining(system)) {
      return CompletableFuture.completedStage(Done.getInstance());
    }
    return lastWorkerOf(system, workers)
        .thenComposeAsync(
            alone -> {
              if (alone == null) {
                return CompletableFuture.completedStage(Done.getInstance());
              }
              if (System.nanoTime() - deadlineNanos >= 0) {
                system
                    .log()
                    .warn(
                        "Leaving although this node still holds the last worker of policy {}:"
                            + " no replacement within revproxy.worker.replacement-wait",
                        alone);
                return CompletableFuture.completedStage(Done.getInstance());
              }
              system
                  .log()
                  .info(
                      "Holding the last worker of policy {} while another worker node joins",
                      alone);
              return Patterns.after(
                  POLL, system, () -> awaitReplacements(system, workers, deadlineNanos));
            },
            Completions.SAME_THREAD);
  }

  /** A policy of this node that no other reachable routee serves, or null. */
  private static CompletionStage<String> lastWorkerOf(ActorSystem<?> system, List<Worker> workers) {
    CompletionStage<String> alone = CompletableFuture.completedStage(null);
    for (Worker worker : workers) {
      String policy = worker.spec().policyId();
      alone =
          alone.thenComposeAsync(
              found -> {
                if (found != null) {
                  return CompletableFuture.completedStage(found);
                }
                return AskPattern.<Receptionist.Command, Receptionist.Listing>ask(
                        system.receptionist(),
                        replyTo -> Receptionist.find(Routee.serviceKey(policy), replyTo),
                        FIND_TIMEOUT,
                        system.scheduler())
                    .handleAsync(
                        (listing, failure) -> {
                          if (listing == null) {
                            return null;
                          }
                          Set<ActorRef<Routee.Command>> routees =
                              listing.getServiceInstances(Routee.serviceKey(policy));
                          boolean others = routees.stream().anyMatch(ref -> !isOurs(ref, workers));
                          return others ? null : policy;
                        },
                        Completions.SAME_THREAD);
              },
              Completions.SAME_THREAD);
    }
    return alone;
  }

  private static boolean isOurs(ActorRef<Routee.Command> ref, List<Worker> workers) {
    return workers.stream().anyMatch(worker -> worker.ref().equals(ref));
  }

  /** Whether a worker node other than this one is joining (Joining or WeaklyUp). */
  private static boolean anotherWorkerNodeJoining(ActorSystem<?> system) {
    Cluster cluster = Cluster.get(system);
    for (Member member : cluster.state().getMembers()) {
      if (!member.equals(cluster.selfMember())
          && member.hasRole(Roles.WORKER)
          && (member.status() == MemberStatus.joining()
              || member.status() == MemberStatus.weaklyUp())) {
        return true;
      }
    }
    return false;
  }
}
