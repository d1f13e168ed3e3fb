package revproxy.node;

import akka.Done;
import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorSystem;
import akka.cluster.Member;
import akka.cluster.typed.Cluster;
import akka.pattern.Patterns;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A node leaves the cluster only when no member is unreachable, waiting up to {@code
 * revproxy.cluster.leave-wait-while-unreachable} for the Split Brain Resolver to down the
 * unreachable one. Two reasons: a leave cannot complete while a member is unreachable anyway (no
 * convergence), and in a small cluster a member that is Leaving when the resolver decides makes its
 * rule for membership changes see a tie, keep the side with the lowest address, and, when that is
 * the unreachable side, down every node. This runs just before the cluster-leave phase, after the
 * node's own graceful steps (draining clients, deregistering workers).
 */
final class StableLeave {

  private static final Duration POLL = Duration.ofMillis(200);

  private StableLeave() {}

  static void register(ActorSystem<?> system, Duration maxWait) {
    CoordinatedShutdown.get(system)
        .addTask(
            CoordinatedShutdown.PhaseBeforeClusterShutdown(),
            "revproxy-leave-when-stable",
            () -> awaitNoUnreachable(system, System.nanoTime() + maxWait.toNanos(), true));
  }

  private static CompletionStage<Done> awaitNoUnreachable(
      ActorSystem<?> system, long deadlineNanos, boolean first) {
    Set<Member> unreachable = Cluster.get(system).state().getUnreachable();
    if (unreachable.isEmpty()) {
      return CompletableFuture.completedStage(Done.getInstance());
    }
    if (System.nanoTime() - deadlineNanos >= 0) {
      system.log().warn("Leaving the cluster although {} is still unreachable", unreachable);
      return CompletableFuture.completedStage(Done.getInstance());
    }
    if (first) {
      system
          .log()
          .info("Waiting to leave the cluster until {} is no longer unreachable", unreachable);
    }
    return Patterns.after(POLL, system, () -> awaitNoUnreachable(system, deadlineNanos, false));
  }
}
