package revproxy.node;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import revproxy.StuckSystem;

/** A node's wait for its actor system is bounded once coordinated shutdown has run. */
@Timeout(20)
class TerminationTest {

  @Test
  void aSystemThatCannotFinishTerminatingIsGivenUpAfterTheGrace() throws Exception {
    try (StuckSystem stuck = new StuckSystem("stuck")) {
      stuck.system().terminate();
      long start = System.nanoTime();
      assertFalse(Termination.await(stuck.system(), Duration.ofMillis(500)));
      // The phase timeout (1 s) and the grace (0.5 s), with room for a slow machine.
      assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10));
      assertFalse(stuck.system().getWhenTerminated().toCompletableFuture().isDone());
    }
  }

  @Test
  void aSystemShutDownLaterIsAlsoGivenUpAfterTheGrace() throws Exception {
    try (StuckSystem stuck = new StuckSystem("stuck-later")) {
      ActorSystem<Void> system = stuck.system();
      // The wait starts while the node runs; shutdown begins afterwards.
      system
          .scheduler()
          .scheduleOnce(Duration.ofMillis(1500), system::terminate, system.executionContext());
      assertFalse(Termination.await(system, Duration.ofMillis(500)));
      assertFalse(system.getWhenTerminated().toCompletableFuture().isDone());
    }
  }

  @Test
  void aSystemThatTerminatesIsWaitedFor() throws Exception {
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "clean", StuckSystem.LOCAL);
    system
        .scheduler()
        .scheduleOnce(Duration.ofMillis(300), system::terminate, system.executionContext());
    assertTrue(Termination.await(system, Duration.ofSeconds(30)));
    assertTrue(system.getWhenTerminated().toCompletableFuture().isDone());
  }
}
