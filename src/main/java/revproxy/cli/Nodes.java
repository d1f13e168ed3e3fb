package revproxy.cli;

import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import com.typesafe.config.Config;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.LoggerFactory;
import revproxy.cluster.BindFailure;
import revproxy.cluster.NodeConfig;
import revproxy.node.Termination;

/** Running a cluster node from the command line until it stops. */
final class Nodes {

  /** How much longer a downed node waits for its old actor system before it rejoins. */
  static final Duration REJOIN_WAIT = Duration.ofSeconds(30);

  private Nodes() {}

  /**
   * Starts a node. Its cluster port is bound here: when it cannot be, that is one line (an
   * IllegalStateException, which the command line reports as {@code error: ...}, exit 1).
   */
  static <T> ActorSystem<T> start(Behavior<T> guardian, Config config) {
    try {
      return ActorSystem.create(guardian, NodeConfig.SYSTEM_NAME, config);
    } catch (RuntimeException e) {
      if (!BindFailure.isBindFailure(e)) {
        throw e;
      }
      throw new IllegalStateException(
          BindFailure.of(
                  "cluster port",
                  config.getString("akka.remote.artery.canonical.hostname"),
                  config.getInt("akka.remote.artery.canonical.port"),
                  e)
              .message());
    }
  }

  /**
   * Blocks until the node's actor system terminates, or has run its coordinated shutdown and then
   * failed to terminate within {@link Termination#GRACE} (see {@link Termination}). Exit status 0
   * when it was asked to stop (SIGTERM, Ctrl-C), 1 when it stopped on its own (was downed, ...). A
   * port it could not bind is an IllegalStateException that says which one: one line and exit
   * status 1.
   */
  static int awaitTermination(ActorSystem<?> system) throws InterruptedException {
    Termination.await(system, Termination.GRACE);
    if (system.getWhenTerminated().toCompletableFuture().isCompletedExceptionally()) {
      return 1;
    }
    Optional<CoordinatedShutdown.Reason> reason =
        CoordinatedShutdown.get(system).getShutdownReason();
    if (reason.orElse(null) instanceof BindFailure failure) {
      throw new IllegalStateException(failure.message());
    }
    return reason.filter(stop -> stop == CoordinatedShutdown.jvmExitReason()).isPresent() ? 0 : 1;
  }

  /**
   * A worker node that was downed (by itself when it lost its proxy, or by the cluster after a
   * partition) is stateless: it should start again and rejoin rather than exit. Its old actor
   * system must have terminated first, as it holds the cluster port: when it has not, up to {@link
   * #REJOIN_WAIT} more is given (downed on the minority side of a partition, Artery's shutdown was
   * seen to take 14.5 s); past that the node exits (status 1) for its service manager to start it
   * again.
   */
  static boolean shouldRejoin(ActorSystem<?> system) throws InterruptedException {
    return shouldRejoin(system, REJOIN_WAIT);
  }

  static boolean shouldRejoin(ActorSystem<?> system, Duration wait) throws InterruptedException {
    boolean downed =
        CoordinatedShutdown.get(system)
            .getShutdownReason()
            .filter(reason -> reason == CoordinatedShutdown.clusterDowningReason())
            .isPresent();
    if (!downed) {
      return false;
    }
    if (Termination.terminatedWithin(system, wait)) {
      return true;
    }
    LoggerFactory.getLogger(Nodes.class)
        .warn(
            "Node was downed, and its actor system did not terminate within {} ms more: it"
                + " still holds the cluster port, so exiting (status 1) instead of rejoining"
                + " from this JVM",
            wait.toMillis());
    return false;
  }

  static String shutdownReason(ActorSystem<?> system) {
    return CoordinatedShutdown.get(system)
        .getShutdownReason()
        .map(Object::toString)
        .orElse("unknown");
  }
}
