package revproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.PostStop;
import akka.actor.typed.javadsl.Behaviors;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** How a node's stop becomes an exit status, and when a downed node starts again in its JVM. */
@Timeout(30)
class NodesTest {

  private static final Config LOCAL =
      ConfigFactory.parseString(
              "akka.actor.provider = local\n"
                  + "akka.coordinated-shutdown.phases.actor-system-terminate.timeout = 1s\n")
          .withFallback(ConfigFactory.load());

  @Test
  void aDownedNodeWhoseSystemTerminatedRejoins() throws Exception {
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "downed", LOCAL);
    CoordinatedShutdown.get(system).runAll(CoordinatedShutdown.clusterDowningReason());
    assertEquals(1, Nodes.awaitTermination(system));
    assertTrue(Nodes.shouldRejoin(system, Duration.ofSeconds(5)));
  }

  @Test
  void aNodeAskedToStopExitsWithZeroAndDoesNotRejoin() throws Exception {
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "stopped", LOCAL);
    CoordinatedShutdown.get(system).runAll(CoordinatedShutdown.jvmExitReason());
    assertEquals(0, Nodes.awaitTermination(system));
    assertFalse(Nodes.shouldRejoin(system, Duration.ofSeconds(5)));
  }

  @Test
  void aDownedNodeWhoseSystemDoesNotTerminateExitsInsteadOfRejoining() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    ActorSystem<Void> system =
        ActorSystem.create(
            Behaviors.setup(
                context -> {
                  context.spawn(
                      Behaviors.<String>receive(String.class)
                          .onSignal(
                              PostStop.class,
                              stop -> {
                                release.await(30, TimeUnit.SECONDS);
                                return Behaviors.same();
                              })
                          .build(),
                      "stuck");
                  return Behaviors.<Void>empty();
                }),
            "downed-stuck",
            LOCAL);
    try {
      CoordinatedShutdown.get(system).runAll(CoordinatedShutdown.clusterDowningReason());
      assertEquals(1, Nodes.awaitTermination(system));
      assertFalse(system.getWhenTerminated().toCompletableFuture().isDone());
      assertFalse(Nodes.shouldRejoin(system, Duration.ofMillis(500)));
    } finally {
      release.countDown();
      system.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }
}
