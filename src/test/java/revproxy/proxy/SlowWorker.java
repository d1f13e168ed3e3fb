package revproxy.proxy;

import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.Behaviors;
import java.time.Duration;
import revproxy.protocol.PayloadHash;
import revproxy.worker.HashWorker;

/** A test routee that answers each request correctly, but only after {@code delay}. */
final class SlowWorker {

  private record Answer(HashWorker.Hash hash) implements HashWorker.Command {}

  private SlowWorker() {}

  static Behavior<HashWorker.Command> create(Duration delay) {
    return Behaviors.withTimers(
        timers ->
            Behaviors.receiveMessage(
                command -> {
                  if (command instanceof HashWorker.Hash hash) {
                    timers.startSingleTimer(hash, new Answer(hash), delay);
                  } else {
                    HashWorker.Hash hash = ((Answer) command).hash();
                    hash.answer("slow", PayloadHash.sha1Hex(hash.payload()));
                  }
                  return Behaviors.same();
                }));
  }
}
