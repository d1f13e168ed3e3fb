package revproxy.proxy;

import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.Behaviors;
import java.time.Duration;
import revproxy.protocol.PayloadHash;
import revproxy.routee.Routee;

/** A test routee that answers each request correctly, but only after {@code delay}. */
final class SlowWorker {

  private record Answer(Routee.Hash hash) implements Routee.Command {}

  private SlowWorker() {}

  static Behavior<Routee.Command> create(Duration delay) {
    return Behaviors.withTimers(
        timers ->
            Behaviors.receiveMessage(
                command -> {
                  if (command instanceof Routee.Hash hash) {
                    timers.startSingleTimer(hash, new Answer(hash), delay);
                  } else {
                    Routee.Hash hash = ((Answer) command).hash();
                    hash.answer("slow", PayloadHash.sha1Hex(hash.payload()));
                  }
                  return Behaviors.same();
                }));
  }
}
