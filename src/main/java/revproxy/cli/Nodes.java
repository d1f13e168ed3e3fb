package revproxy.cli;

import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import com.typesafe.config.Config;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import revproxy.cluster.BindFailure;
import revproxy.cluster.NodeConfig;

/** Running a cluster node from the command line until it stops. */
final class Nodes {

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
   * Blocks until the node's actor system terminates. Exit status 0 when it was asked to stop
   * (SIGTERM, Ctrl-C), 1 when it stopped on its own (was downed, ...). A port it could not bind is
   * an IllegalStateException that says which one: one line and exit status 1.
   */
  static int awaitTermination(ActorSystem<?> system) throws InterruptedException {
    try {
      system.getWhenTerminated().toCompletableFuture().get();
    } catch (ExecutionException e) {
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
   * partition) is stateless: it should start again and rejoin rather than exit.
   */
  static boolean shouldRejoin(ActorSystem<?> system) {
    return CoordinatedShutdown.get(system)
        .getShutdownReason()
        .filter(reason -> reason == CoordinatedShutdown.clusterDowningReason())
        .isPresent();
  }

  static String shutdownReason(ActorSystem<?> system) {
    return CoordinatedShutdown.get(system)
        .getShutdownReason()
        .map(Object::toString)
        .orElse("unknown");
  }
}
