package revproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import revproxy.StuckSystem;

/** How a node's stop becomes an exit status, and when a downed node starts again in its JVM. */
@Timeout(30)
class NodesTest {

  @Test
  void aDownedNodeWhoseSystemTerminatedRejoins() throws Exception {
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "downed", StuckSystem.LOCAL);
    CoordinatedShutdown.get(system).runAll(CoordinatedShutdown.clusterDowningReason());
    assertEquals(1, Nodes.awaitTermination(system));
    assertTrue(Nodes.shouldRejoin(system, Duration.ofSeconds(5)));
  }

  @Test
  void aNodeAskedToStopExitsWithZeroAndDoesNotRejoin() throws Exception {
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "stopped", StuckSystem.LOCAL);
    CoordinatedShutdown.get(system).runAll(CoordinatedShutdown.jvmExitReason());
    assertEquals(0, Nodes.awaitTermination(system));
    assertFalse(Nodes.shouldRejoin(system, Duration.ofSeconds(5)));
  }

  @Test
  void aDownedNodeWhoseSystemDoesNotTerminateExitsInsteadOfRejoining() throws Exception {
    try (StuckSystem stuck = new StuckSystem("downed-stuck")) {
      ActorSystem<Void> system = stuck.system();
      CoordinatedShutdown.get(system).runAll(CoordinatedShutdown.clusterDowningReason());
      assertEquals(1, Nodes.awaitTermination(system));
      assertFalse(system.getWhenTerminated().toCompletableFuture().isDone());
      assertFalse(Nodes.shouldRejoin(system, Duration.ofMillis(500)));
    }
  }
}
