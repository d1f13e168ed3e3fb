package revproxy.routee;

import akka.actor.typed.ActorRef;
import akka.actor.typed.receptionist.ServiceKey;
import revproxy.cluster.CborSerializable;

/**
 * The protocol every routee of a policy speaks, wherever it runs: the proxy's router sends {@link
 * Hash}, the routee answers {@link Hashed} or {@link Unavailable}. Routees register with the
 * receptionist under {@link #serviceKey(String)}: the cluster's {@code HashWorker}s and the
 * proxy's {@code LegacyBackend}s for legacy TCP servers share one key per policy, so one round
 * robin covers both.
 *
 * <p>{@link Command} itself is no serialization marker: only the messages that cross nodes are
 * {@link CborSerializable}, so a routee's own private messages never are.
 */
public final class Routee {

  private Routee() {}

  /** What a routee accepts; {@link Hash} from the router, and whatever else it tells itself. */
  public interface Command {}

  /**
   * Hash {@code payload}, sent by client {@code srcid}, and answer {@code replyTo}. The reply
   * carries {@code requestId} back, so one sender can have many requests out at once (the router
   * does, without an ask per request).
   */
  public record Hash(long requestId, String srcid, String payload, ActorRef<Reply> replyTo)
      implements Command, CborSerializable {

    /** Answers that routee {@code workerId} hashed the payload to {@code payloadHash}. */
    public void answer(String workerId, String payloadHash) {
      replyTo.tell(new Hashed(requestId, workerId, payloadHash));
    }

    /** Answers that routee {@code workerId} cannot serve this request now, and why. */
    public void refuse(String workerId, String reason) {
      replyTo.tell(new Unavailable(requestId, workerId, reason));
    }
  }

  public sealed interface Reply extends CborSerializable {
    /** The {@link Hash#requestId()} this answers. */
    long requestId();
  }

  /** The answer: which routee hashed it, and the lowercase SHA-1 hex of the payload's UTF-8 bytes. */
  public record Hashed(long requestId, String workerId, String payloadHash) implements Reply {}

  /** This routee cannot serve the request now (e.g. its backend is down): try another one. */
  public record Unavailable(long requestId, String workerId, String reason) implements Reply {}

  /** The receptionist key under which the routees of one policy register. */
  public static ServiceKey<Command> serviceKey(String policyId) {
    return ServiceKey.create(Command.class, "policy-" + policyId);
  }
}
