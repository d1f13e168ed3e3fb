package revproxy.routee;

import akka.actor.typed.ActorRef;
import akka.actor.typed.receptionist.ServiceKey;
import java.util.ArrayList;
import java.util.List;
import revproxy.cluster.CborSerializable;

/**
 * The protocol every routee of a policy speaks, wherever it runs: the proxy's router sends {@link
 * Hash} (or, to a routee on another node, several at once as a {@link HashBatch}), the routee
 * answers {@link Hashed} or {@link Unavailable} for each (several at once as {@link Answers}).
 * Routees register with the receptionist under {@link #serviceKey(String)}: the cluster's {@code
 * HashWorker}s and the proxy's {@code LegacyBackend}s for legacy TCP servers share one key per
 * policy, so one round robin covers both.
 *
 * <p>{@link Command} itself is no serialization marker: only the messages that cross nodes are
 * {@link CborSerializable}, so a routee's own private messages never are. Those are written by
 * {@link RouteeSerializer} in a compact binary form, not by Jackson.
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

  /**
   * Several {@link Hash} requests for one routee in one message, as the router sends them to a
   * routee on another node: one remote message instead of one per request. Each is answered as if
   * it had come alone; {@link #answerAll} answers them in one {@link Answers} per reply-to.
   */
  public record HashBatch(List<Hash> hashes) implements Command, CborSerializable {

    public HashBatch {
      hashes = List.copyOf(hashes);
    }

    /**
     * Answers every request with what {@code answer} makes of it, in one {@link Answers} message
     * per reply-to (the router sends batches with one reply-to, so one message).
     */
    public void answerAll(java.util.function.Function<Hash, Answer> answer) {
      List<Answer> answers = new ArrayList<>(hashes.size());
      ActorRef<Reply> replyTo = null;
      for (Hash hash : hashes) {
        if (replyTo != null && !replyTo.equals(hash.replyTo())) {
          replyTo.tell(new Answers(answers));
          answers = new ArrayList<>();
        }
        replyTo = hash.replyTo();
        answers.add(answer.apply(hash));
      }
      if (replyTo != null) {
        replyTo.tell(new Answers(answers));
      }
    }
  }

  /** What a routee sends the router: one {@link Answer}, or several at once. */
  public sealed interface Reply extends CborSerializable {}

  /** The answer to one {@link Hash}. */
  public sealed interface Answer extends Reply {
    /** The {@link Hash#requestId()} this answers. */
    long requestId();
  }

  /**
   * The answer: which routee hashed it, and the lowercase SHA-1 hex of the payload's UTF-8 bytes.
   */
  public record Hashed(long requestId, String workerId, String payloadHash) implements Answer {}

  /** This routee cannot serve the request now (e.g. its backend is down): try another one. */
  public record Unavailable(long requestId, String workerId, String reason) implements Answer {}

  /** The answers to the requests of a {@link HashBatch}, in one message. */
  public record Answers(List<Answer> answers) implements Reply {

    public Answers {
      answers = List.copyOf(answers);
    }
  }

  /** The receptionist key under which the routees of one policy register. */
  public static ServiceKey<Command> serviceKey(String policyId) {
    return ServiceKey.create(Command.class, "policy-" + policyId);
  }
}
