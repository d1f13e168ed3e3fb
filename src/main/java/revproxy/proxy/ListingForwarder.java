package revproxy.proxy;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.receptionist.Receptionist;
import akka.actor.typed.receptionist.ServiceKey;
import java.util.function.BiFunction;

/**
 * Subscribes to one key's listing and forwards each listing to its parent. A child per policy, not
 * a message adapter: the receptionist of Akka 2.6 has no unsubscribe, and a subscription ends only
 * when its subscriber stops, so stopping this child is how a forgotten policy unsubscribes.
 */
final class ListingForwarder {

  private ListingForwarder() {}

  /** {@code wrap} turns (this child, a listing) into the parent's message. */
  static <T, P> Behavior<Receptionist.Listing> create(
      ServiceKey<T> key,
      ActorRef<P> parent,
      BiFunction<ActorRef<Receptionist.Listing>, Receptionist.Listing, P> wrap) {
    return Behaviors.setup(
        context -> {
          context.getSystem().receptionist().tell(Receptionist.subscribe(key, context.getSelf()));
          return Behaviors.receiveMessage(
              listing -> {
                parent.tell(wrap.apply(context.getSelf(), listing));
                return Behaviors.same();
              });
        });
  }
}
