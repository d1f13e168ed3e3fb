package revproxy.protocol;

/**
 * The packets of the wire protocol (see README "Wire protocol"). Field names follow the original
 * tutorial: {@code srcid} is the sender, {@code destid} the addressee, {@code privPoliId} the policy.
 */
public sealed interface Packet {

  /** Type "0": a client asks for the SHA-1 of {@code payload} from a worker of {@code policyId}. */
  record Request(String srcid, String policyId, String payload) implements Packet {}

  /** Type "2": worker {@code workerId} answers client {@code destId} with the payload's SHA-1 hex. */
  record Reply(String workerId, String destId, String payloadHash) implements Packet {}

  /** Type "3": what was wrong, with a stable {@code code}; {@code destId} is null when not known. */
  record Error(String destId, String code, String message) implements Packet {
    public static Error of(String destId, ErrorCode code, String message) {
      return new Error(destId, code.wire(), message);
    }
  }
}
