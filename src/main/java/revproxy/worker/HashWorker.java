package revproxy.worker;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.receptionist.Receptionist;
import akka.actor.typed.receptionist.ServiceKey;
import revproxy.cluster.CborSerializable;
import revproxy.protocol.PayloadHash;

/**
 * A backend that serves one privacy policy: it registers itself with the cluster receptionist under
 * the policy's {@link #serviceKey(String)} and answers each {@link Hash} with the payload's SHA-1.
 *
 * <p>{@link Hash} and {@link Reply} are the protocol of every routee of a policy: other backends
 * (such as the proxy's adapters for legacy TCP servers) register under the same key and speak it.
 */
public final class HashWorker extends AbstractBehavior<HashWorker.Command> {

  public interface Command extends CborSerializable {}

  /**
   * Hash {@code payload}, sent by client {@code srcid}, and answer {@code replyTo}. The reply
   * carries {@code requestId} back, so one sender can have many requests out at once (the router
   * does, without an ask per request).
   */
  public record Hash(long requestId, String srcid, String payload, ActorRef<Reply> replyTo)
      implements Command {

    /** Answers that worker {@code workerId} hashed the payload to {@code payloadHash}. */
    public void answer(String workerId, String payloadHash) {
      replyTo.tell(new Hashed(requestId, workerId, payloadHash));
    }

    /** Answers that worker {@code workerId} cannot serve this request now, and why. */
    public void refuse(String workerId, String reason) {
      replyTo.tell(new Unavailable(requestId, workerId, reason));
    }
  }

  public sealed interface Reply extends CborSerializable {
    /** The {@link Hash#requestId()} this answers. */
    long requestId();
  }

  /** The answer: which worker hashed it, and the lowercase SHA-1 hex of the payload's UTF-8 bytes. */
  public record Hashed(long requestId, String workerId, String payloadHash) implements Reply {}

  /** This routee cannot serve the request now (e.g. its backend is down): try another one. */
  public record Unavailable(long requestId, String workerId, String reason) implements Reply {}

  /** The receptionist key under which the workers of one policy register. */
  public static ServiceKey<Command> serviceKey(String policyId) {
    return ServiceKey.create(Command.class, "policy-" + policyId);
  }

  public static Behavior<Command> create(String workerId, String policyId) {
    return Behaviors.setup(
        context -> {
          context
              .getSystem()
              .receptionist()
              .tell(Receptionist.register(serviceKey(policyId), context.getSelf()));
          context.getLog().info("Worker {} registered for policy {}", workerId, policyId);
          return new HashWorker(context, workerId);
        });
  }

  private final String workerId;

  private HashWorker(ActorContext<Command> context, String workerId) {
    super(context);
    this.workerId = workerId;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder().onMessage(Hash.class, this::onHash).build();
  }

  private Behavior<Command> onHash(Hash hash) {
    hash.answer(workerId, PayloadHash.sha1Hex(hash.payload()));
    return this;
  }
}
