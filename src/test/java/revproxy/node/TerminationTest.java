package revproxy.node;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.javadsl.Behaviors;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A node's wait for its actor system is bounded once coordinated shutdown has run: an actor whose
 * stop never finishes stands for Artery's remoting streams that wait for a peer.
 */
@Timeout(20)
class TerminationTest {

  static final Config LOCAL =
      ConfigFactory.parseString(
              "akka.actor.provider = local\n"
                  + "akka.coordinated-shutdown.phases.actor-system-terminate.timeout = 1s\n")
          .withFallback(ConfigFactory.load());

  @Test
  void aSystemThatCannotFinishTerminatingIsGivenUpAfterTheGrace() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    ActorSystem<Void> system = ActorSystem.create(stuckOnStop(release), "stuck", LOCAL);
    try {
      system.terminate();
      long start = System.nanoTime();
      assertFalse(Termination.await(system, Duration.ofMillis(500)));
      // The phase timeout (1 s) and the grace (0.5 s), with room for a slow machine.
      assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10));
      assertFalse(system.getWhenTerminated().toCompletableFuture().isDone());
    } finally {
      release.countDown();
      system.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aSystemShutDownLaterIsAlsoGivenUpAfterTheGrace() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    ActorSystem<Void> system = ActorSystem.create(stuckOnStop(release), "stuck-later", LOCAL);
    try {
      // The wait starts while the node runs; shutdown begins afterwards.
      system
          .scheduler()
          .scheduleOnce(Duration.ofMillis(300), system::terminate, system.executionContext());
      assertFalse(Termination.await(system, Duration.ofMillis(500)));
      assertFalse(system.getWhenTerminated().toCompletableFuture().isDone());
    } finally {
      release.countDown();
      system.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aSystemThatTerminatesIsWaitedFor() throws Exception {
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "clean", LOCAL);
    system
        .scheduler()
        .scheduleOnce(Duration.ofMillis(300), system::terminate, system.executionContext());
    assertTrue(Termination.await(system, Duration.ofSeconds(30)));
    assertTrue(system.getWhenTerminated().toCompletableFuture().isDone());
  }

  /** A guardian whose child blocks in its PostStop until released. */
  static Behavior<Void> stuckOnStop(CountDownLatch release) {
    return Behaviors.setup(
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
          return Behaviors.empty();
        });
  }
}
