package revproxy.cli;

import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorSystem;
import java.util.concurrent.ExecutionException;

/** Running a cluster node from the command line until it stops. */
final class Nodes {

  private Nodes() {}

  /**
   * Blocks until the node's actor system terminates. Exit status 0 when it was asked to stop
   * (SIGTERM, Ctrl-C), 1 when it stopped on its own (could not bind, was downed, ...).
   */
  static int awaitTermination(ActorSystem<?> system) throws InterruptedException {
    try {
      system.getWhenTerminated().toCompletableFuture().get();
    } catch (ExecutionException e) {
      return 1;
    }
    return CoordinatedShutdown.get(system)
            .getShutdownReason()
            .filter(reason -> reason == CoordinatedShutdown.jvmExitReason())
            .isPresent()
        ? 0
        : 1;
  }

  /**
   * A worker node that was downed (by itself when it lost its proxy, or by the cluster after a
   * partition) is stateless: it should start again and rejoin rather than exit.
   */
  static boolean shouldRejoin(ActorSystem<?> system) {
    return CoordinatedShutdown.get(system)
        .getShutdownReason()
        .filter(reason -> reason == CoordinatedShutdown.clusterDowningReason())
        .isPresent();
  }

  static String shutdownReason(ActorSystem<?> system) {
    return CoordinatedShutdown.get(system).getShutdownReason().map(Object::toString).orElse("unknown");
  }
}
