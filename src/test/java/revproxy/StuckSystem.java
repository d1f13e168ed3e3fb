package revproxy;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.javadsl.Behaviors;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A local actor system that cannot finish terminating until {@link #close()}: a child of its
 * guardian blocks in its PostStop, standing for Artery's remoting streams that wait for a peer.
 * Coordinated shutdown's last phase times out after 1 s ({@link #LOCAL}).
 */
public final class StuckSystem implements AutoCloseable {

  /** A local system whose actor-system-terminate phase times out after 1 s. */
  public static final Config LOCAL =
      ConfigFactory.parseString(
              "akka.actor.provider = local\n"
                  + "akka.coordinated-shutdown.phases.actor-system-terminate.timeout = 1s\n")
          .withFallback(ConfigFactory.load());

  private final CountDownLatch release = new CountDownLatch(1);
  private final ActorSystem<Void> system;

  public StuckSystem(String name) {
    system = ActorSystem.create(guardian(release), name, LOCAL);
  }

  public ActorSystem<Void> system() {
    return system;
  }

  /** Lets the blocked child stop, and waits for the system to terminate. */
  @Override
  public void close() throws Exception {
    release.countDown();
    system.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static Behavior<Void> guardian(CountDownLatch release) {
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
