package revproxy.protocol;

import java.util.regex.Pattern;

/**
 * The packets of the wire protocol (see README "Wire protocol"). Field names follow the original
 * tutorial: {@code srcid} is the sender, {@code destid} the addressee, {@code privPoliId} the
 * policy.
 */
public sealed interface Packet {

  /**
   * What a policy id (and a worker id) may look like: they name actors and receptionist keys, so
   * they are kept plain and short.
   */
  Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");

  /** Whether {@code value} matches {@link #NAME}, without a regex (it runs per request). */
  static boolean isName(String value) {
    int length = value.length();
    if (length < 1 || length > 64) {
      return false;
    }
    for (int i = 0; i < length; i++) {
      char c = value.charAt(i);
      boolean ok =
          (c >= 'A' && c <= 'Z')
              || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9')
              || c == '.'
              || c == '_'
              || c == '-';
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  /** Type "0": a client asks for the SHA-1 of {@code payload} from a worker of {@code policyId}. */
  record Request(String srcid, String policyId, String payload) implements Packet {}

  /**
   * Type "1": a legacy TCP server announces that it serves {@code policyId} on {@code listenPort}
   * of the host it connects from (note the original's other spelling, {@code privPolyId}). {@code
   * token} is the shared secret a proxy may require of registrations (null when not sent).
   */
  record Registration(
      String serverId, String policyId, int listenPort, int connections, String token)
      implements Packet {

    /**
     * A server that does not say how many connections it serves at once (the original serves one at
     * a time) gets one; the original sends no token.
     */
    public Registration(String serverId, String policyId, int listenPort) {
      this(serverId, policyId, listenPort, 1, null);
    }

    /** A registration that announces {@code connections}, without a token. */
    public Registration(String serverId, String policyId, int listenPort, int connections) {
      this(serverId, policyId, listenPort, connections, null);
    }

    /** The token never appears in logs. */
    @Override
    public String toString() {
      return "Registration[serverId="
          + serverId
          + ", policyId="
          + policyId
          + ", listenPort="
          + listenPort
          + ", connections="
          + connections
          + (token == null ? "" : ", token=<hidden>")
          + "]";
    }
  }

  /**
   * Type "2": worker {@code workerId} answers client {@code destId} with the payload's SHA-1 hex.
   */
  record Reply(String workerId, String destId, String payloadHash) implements Packet {}

  /**
   * Type "3": what was wrong, with a stable {@code code}; {@code destId} is null when not known.
   */
  record Error(String destId, String code, String message) implements Packet {
    public static Error of(String destId, ErrorCode code, String message) {
      return new Error(destId, code.wire(), message);
    }
  }
}
