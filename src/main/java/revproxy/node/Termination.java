package revproxy.node;

import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorSystem;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.LoggerFactory;

/**
 * Waits for a node's actor system to terminate, but not past {@link #GRACE} after its coordinated
 * shutdown has run every phase. Each phase has its own timeout; what is left after the last one is
 * the actor system's own termination, which Akka 2.6 does not bound: Artery waits for its remoting
 * streams without a deadline (fixed upstream only in Pekko, {@code
 * pekko.remote.artery.advanced.shutdown-streams-timeout}). Over TLS such a stream can wait for a
 * peer that stays up (Artery's TLS connections ignore completion), so a node that leaves a cluster
 * that goes on could otherwise wait forever to exit.
 */
public final class Termination {

  /** How long after coordinated shutdown's last phase the actor system may take to terminate. */
  public static final Duration GRACE = Duration.ofSeconds(5);

  private static final Duration POLL = Duration.ofSeconds(1);

  private Termination() {}

  /**
   * Blocks until {@code system} has terminated (true), or until coordinated shutdown has run all
   * its phases and {@code grace} has passed since without the system terminating (false, with a
   * warning). Waits without a limit while the node runs: it returns only once shutdown has begun.
   */
  public static boolean await(ActorSystem<?> system, Duration grace) throws InterruptedException {
    CompletableFuture<?> terminated = system.getWhenTerminated().toCompletableFuture();
    CoordinatedShutdown shutdown = CoordinatedShutdown.get(system);
    // A poll, not a task in some phase: every phase can be disabled in configuration.
    while (shutdown.getShutdownReason().isEmpty()) {
      if (terminatedWithin(system, POLL)) {
        return true;
      }
    }
    if (terminated.isDone()) {
      return true;
    }
    // Once shutdown has begun, runAll starts nothing: it is the future of all its phases.
    // Failed or not (a phase with recover off), its end is what counts.
    CompletableFuture<?> phasesRun =
        shutdown
            .runAll(shutdown.getShutdownReason().orElseThrow())
            .toCompletableFuture()
            .exceptionally(failure -> null);
    try {
      CompletableFuture.anyOf(terminated, phasesRun).get();
    } catch (ExecutionException e) {
      return true; // terminated, with an error (phasesRun does not fail)
    }
    if (terminatedWithin(system, grace)) {
      return true;
    }
    LoggerFactory.getLogger(Termination.class)
        .warn(
            "Actor system {} did not terminate within {} ms after its coordinated shutdown"
                + " (Akka's remoting streams still open); going on without it",
            system.address(),
            grace.toMillis());
    return false;
  }

  /** Whether {@code system} terminates (with an error or not) within {@code limit}. */
  public static boolean terminatedWithin(ActorSystem<?> system, Duration limit)
      throws InterruptedException {
    try {
      system.getWhenTerminated().toCompletableFuture().get(limit.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (ExecutionException e) {
      return true;
    } catch (TimeoutException e) {
      return false;
    }
  }
}
