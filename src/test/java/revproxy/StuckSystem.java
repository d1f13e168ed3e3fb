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
 * Coordinated shutdown's last phase times out after 1 s ({@link #LOCAL}). The constructor returns
 * once that child has started: a shutdown begun before the guardian's setup ran would find no child
 * to wait for, and the system would terminate at once.
 */
public final class StuckSystem implements AutoCloseable {

  /** A local system whose actor-system-terminate phase times out after 1 s. */
  public static final Config LOCAL =
      ConfigFactory.parseString(
              "akka.actor.provider = local\n"
                  + "akka.coordinated-shutdown.phases.actor-system-terminate.timeout = 1s\n")
          .withFallback(ConfigFactory.load());

  private final CountDownLatch started = new CountDownLatch(1);
  private final CountDownLatch release = new CountDownLatch(1);
  private final ActorSystem<Void> system;

  public StuckSystem(String name) throws InterruptedException {
    system = ActorSystem.create(guardian(started, release), name, LOCAL);
    if (!started.await(10, TimeUnit.SECONDS)) {
      system.terminate();
      throw new IllegalStateException("the stuck child of " + name + " did not start within 10 s");
    }
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

  private static Behavior<Void> guardian(CountDownLatch started, CountDownLatch release) {
    return Behaviors.setup(
        context -> {
          context.spawn(
              Behaviors.<String>setup(
                  child -> {
                    started.countDown();
                    return Behaviors.<String>receive(String.class)
                        .onSignal(
                            PostStop.class,
                            stop -> {
                              release.await(30, TimeUnit.SECONDS);
                              return Behaviors.same();
                            })
                        .build();
                  }),
              "stuck");
          return Behaviors.empty();
        });
  }
}
