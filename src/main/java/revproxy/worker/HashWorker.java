package revproxy.worker;

import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.receptionist.Receptionist;
import revproxy.protocol.PayloadHash;
import revproxy.routee.Routee;

/**
 * A backend that serves one privacy policy: it registers itself with the cluster receptionist under
 * the policy's {@link Routee#serviceKey(String)} and answers each {@link Routee.Hash} with the
 * payload's SHA-1.
 */
public final class HashWorker extends AbstractBehavior<Routee.Command> {

  public static Behavior<Routee.Command> create(String workerId, String policyId) {
    return Behaviors.setup(
        context -> {
          context
              .getSystem()
              .receptionist()
              .tell(Receptionist.register(Routee.serviceKey(policyId), context.getSelf()));
          context.getLog().info("Worker {} registered for policy {}", workerId, policyId);
          return new HashWorker(context, workerId);
        });
  }

  private final String workerId;

  private HashWorker(ActorContext<Routee.Command> context, String workerId) {
    super(context);
    this.workerId = workerId;
  }

  @Override
  public Receive<Routee.Command> createReceive() {
    return newReceiveBuilder().onMessage(Routee.Hash.class, this::onHash).build();
  }

  private Behavior<Routee.Command> onHash(Routee.Hash hash) {
    hash.answer(workerId, PayloadHash.sha1Hex(hash.payload()));
    return this;
  }
}
