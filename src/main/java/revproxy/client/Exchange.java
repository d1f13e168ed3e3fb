package revproxy.client;

import revproxy.protocol.Packet;
import revproxy.protocol.PayloadHash;

/** One packet sent and the reply it got ({@code reply} is null when none came). */
public record Exchange(PacketFile sent, Packet reply) {

  public enum Verdict {
    /** A type "2" reply to this srcid carrying the SHA-1 of the payload sent. */
    CORRECT,
    /** A type "2" reply whose hash or destid does not match what was sent. */
    NOT_CORRECT,
    /** A type "3" error reply. */
    ERROR,
    /** No reply before the connection closed or the timeout passed. */
    MISSING
  }

  public Verdict verdict() {
    if (reply == null) {
      return Verdict.MISSING;
    } else if (reply instanceof Packet.Reply answer) {
      Packet.Request request = sent.request();
      boolean hashOk = PayloadHash.sha1Hex(request.payload()).equals(answer.payloadHash());
      return hashOk && request.srcid().equals(answer.destId())
          ? Verdict.CORRECT
          : Verdict.NOT_CORRECT;
    } else if (reply instanceof Packet.Error) {
      return Verdict.ERROR;
    }
    return Verdict.NOT_CORRECT;
  }

  /** The worker that answered, or null. */
  public String workerId() {
    return reply instanceof Packet.Reply answer ? answer.workerId() : null;
  }
}
