package revproxy.client;

import revproxy.protocol.Decoded;
import revproxy.protocol.Packet;
import revproxy.protocol.PayloadHash;

/** One packet sent and the reply it got, as decoded ({@code reply} is null when none came). */
public record Exchange(PacketFile sent, Decoded reply) {

  public enum Verdict {
    /** A type "2" reply to this srcid carrying the SHA-1 of the payload sent. */
    CORRECT,
    /**
     * A type "2" reply whose hash or destid does not match what was sent, a packet of another type,
     * or a reply that does not decode.
     */
    NOT_CORRECT,
    /** A type "3" error reply. */
    ERROR,
    /** No reply before the connection closed or the timeout passed. */
    MISSING
  }

  public Verdict verdict() {
    if (reply == null) {
      return Verdict.MISSING;
    } else if (packet() instanceof Packet.Reply answer) {
      Packet.Request request = sent.request();
      boolean hashOk = PayloadHash.sha1Hex(request.payload()).equals(answer.payloadHash());
      return hashOk && request.srcid().equals(answer.destId())
          ? Verdict.CORRECT
          : Verdict.NOT_CORRECT;
    } else if (packet() instanceof Packet.Error) {
      return Verdict.ERROR;
    }
    return Verdict.NOT_CORRECT;
  }

  /** The worker that answered, or null. */
  public String workerId() {
    return packet() instanceof Packet.Reply answer ? answer.workerId() : null;
  }

  /** The packet the reply decoded to, or null when none came or it did not decode. */
  public Packet packet() {
    return reply instanceof Decoded.Ok ok ? ok.packet() : null;
  }
}
