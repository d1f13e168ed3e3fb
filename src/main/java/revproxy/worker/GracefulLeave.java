package revproxy.worker;

import akka.Done;
import akka.actor.Address;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import revproxy.cluster.Roles;
import revproxy.ops.NodeStatus;
import revproxy.routee.Routee;
import revproxy.util.Completions;

/**
 * How a worker node leaves, in the coordinated shutdown's first phase, before the node leaves the
 * cluster: (1) it keeps serving, up to {@code replacement-wait}, while a member is unreachable (its
 * leave could not complete before that member is downed, and in a small cluster a node leaving at
 * that moment makes the Split Brain Resolver's safety rule down every node), while it holds the
 * last worker of one of its policies and another worker node is joining, until that node's worker
 * is listed, and while a policy's other listed routees do not answer a probe (a node that crashed a
 * moment ago stays listed until it is marked unreachable); (2) it deregisters its workers; (3) it
 * serves what still arrives for {@code deregistration-grace}, while the proxies hear that its
 * workers are gone.
 */
final class GracefulLeave {

  private static final Duration POLL = Duration.ofMillis(200);
  private static final Duration FIND_TIMEOUT = Duration.ofSeconds(1);
  private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(1);
  private static final long MIN_PROBE_NANOS = Duration.ofMillis(10).toNanos();

  /** The {@code srcid} of the probes a leaving node sends the policy's other routees. */
  static final String PROBE_SRCID = "revproxy-leave-probe";

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
  static CompletionStage<Done> awaitReplacements(
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
    long probeNanos = Math.min(PROBE_TIMEOUT.toNanos(), deadlineNanos - System.nanoTime());
    return holdings(system, workers, Duration.ofNanos(Math.max(probeNanos, MIN_PROBE_NANOS)))
        .thenComposeAsync(
            holdings -> {
              Holding holding =
                  holdings.stream().filter(Holding::othersListed).findFirst().orElse(null);
              String why = "its other listed workers do not answer (a node crashed a moment ago?)";
              if (holding == null && !holdings.isEmpty() && anotherWorkerNodeJoining(system)) {
                holding = holdings.get(0);
                why = "another worker node joins";
              }
              if (holding == null) {
                return CompletableFuture.completedStage(Done.getInstance());
              }
              if (System.nanoTime() - deadlineNanos >= 0) {
                system
                    .log()
                    .warn(
                        "Leaving although this node still holds the last worker of policy {}:"
                            + " no replacement within revproxy.worker.replacement-wait",
                        holding.policy());
                return CompletableFuture.completedStage(Done.getInstance());
              }
              system.log().info("Holding the last worker of policy {}: {}", holding.policy(), why);
              return Patterns.after(
                  POLL, system, () -> awaitReplacements(system, workers, deadlineNanos));
            },
            Completions.SAME_THREAD);
  }

  /**
   * A policy that only this node's worker serves: {@code othersListed} when other routees of it are
   * listed but none answered a probe.
   */
  record Holding(String policy, boolean othersListed) {}

  /**
   * The policies of this node that no other routee serves, in the order of {@code workers}. A
   * listed routee on a worker node counts only if it answers a probe within {@code probeTimeout}: a
   * node that crashed a moment ago is still listed until the failure detector marks it unreachable,
   * and a leave that trusted that listing would take away the policy's last worker that answers. A
   * routee on a node without the worker role (a proxy's legacy backend, listed only while connected
   * to its server) counts as listed: a probe would be a real request to that server. A policy whose
   * listing cannot be had is taken to have no other routee.
   */
  static CompletionStage<List<Holding>> holdings(
      ActorSystem<?> system, List<Worker> workers, Duration probeTimeout) {
    List<CompletableFuture<Holding>> each = new ArrayList<>();
    for (Worker worker : workers) {
      String policy = worker.spec().policyId();
      each.add(
          AskPattern.<Receptionist.Command, Receptionist.Listing>ask(
                  system.receptionist(),
                  replyTo -> Receptionist.find(Routee.serviceKey(policy), replyTo),
                  FIND_TIMEOUT,
                  system.scheduler())
              .thenComposeAsync(
                  listing -> {
                    List<ActorRef<Routee.Command>> others =
                        listing.getServiceInstances(Routee.serviceKey(policy)).stream()
                            .filter(ref -> !isOurs(ref, workers))
                            .toList();
                    if (others.isEmpty()) {
                      return CompletableFuture.completedStage(new Holding(policy, false));
                    }
                    if (others.stream().anyMatch(ref -> !onWorkerNode(system, ref))) {
                      return CompletableFuture.completedStage((Holding) null);
                    }
                    return anyAnswers(system, others, probeTimeout)
                        .thenApplyAsync(
                            served -> served ? null : new Holding(policy, true),
                            Completions.SAME_THREAD);
                  },
                  Completions.SAME_THREAD)
              .exceptionally(
                  failure -> {
                    system
                        .log()
                        .warn(
                            "No listing of policy {} for the leave ({}): taking it as served by"
                                + " this node alone",
                            policy,
                            Completions.rootMessage(failure));
                    return new Holding(policy, false);
                  })
              .toCompletableFuture());
    }
    return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new))
        .thenApplyAsync(
            done -> each.stream().map(CompletableFuture::join).filter(Objects::nonNull).toList(),
            Completions.SAME_THREAD);
  }

  /** Whether any of {@code routees} hashes a probe within {@code timeout}. */
  private static CompletionStage<Boolean> anyAnswers(
      ActorSystem<?> system, List<ActorRef<Routee.Command>> routees, Duration timeout) {
    CompletableFuture<Boolean> answered = new CompletableFuture<>();
    AtomicInteger left = new AtomicInteger(routees.size());
    for (ActorRef<Routee.Command> routee : routees) {
      AskPattern.<Routee.Command, Routee.Reply>ask(
              routee,
              replyTo -> new Routee.Hash(0, PROBE_SRCID, "", replyTo),
              timeout,
              system.scheduler())
          .whenCompleteAsync(
              (reply, failure) -> {
                if (reply instanceof Routee.Hashed) {
                  answered.complete(true);
                } else if (left.decrementAndGet() == 0) {
                  answered.complete(false);
                }
              },
              Completions.SAME_THREAD);
    }
    return answered;
  }

  /** Whether {@code ref} lives on a member with the worker role, or on a member not known. */
  private static boolean onWorkerNode(ActorSystem<?> system, ActorRef<?> ref) {
    Cluster cluster = Cluster.get(system);
    Address address = ref.path().address();
    if (!address.hasGlobalScope()) {
      return cluster.selfMember().hasRole(Roles.WORKER);
    }
    for (Member member : cluster.state().getMembers()) {
      if (member.address().equals(address)) {
        return member.hasRole(Roles.WORKER);
      }
    }
    return true;
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
