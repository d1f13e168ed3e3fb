package revproxy.bench;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.SplittableRandom;
import revproxy.protocol.PayloadHash;

/**
 * The requests a run sends, prepared once: a small pool of payloads with their SHA-1 hex, and the
 * byte pieces a request is written from, so that sending one costs a few buffer copies.
 *
 * <p>Request {@code seq} of connection {@code conn} is {@code {"type": "0", "srcid":
 * "<conn>-<seq>", "privPoliId": "<policy>", "payload": "<payload>"}}, the policies taken round
 * robin and the payloads in turn, both from positions that differ between connections.
 */
final class RequestPool {

  private static final byte[] PREFIX = ReplyFields.ascii("{\"type\": \"0\", \"srcid\": \"");

  /** Payload characters: printable ASCII, braces and spaces included, nothing JSON escapes. */
  private static final byte[] ALPHABET =
      ReplyFields.ascii(
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 {}[]:,.-_+*/=!?#$%&()<>@^|~");

  /** Memory the pool may take for payloads; fewer, larger payloads beyond it. */
  private static final int POOL_BYTES = 16 << 20;

  private static final int MAX_POOL = 1024;

  private final byte[][] policyParts;
  private final byte[][] payloadParts;
  private final byte[][] hashes;
  private final int maxRequestBytes;

  RequestPool(int payloadBytes, List<String> policies, long seed) {
    int size = Math.max(1, Math.min(MAX_POOL, POOL_BYTES / payloadBytes));
    SplittableRandom random = new SplittableRandom(seed);
    payloadParts = new byte[size][];
    hashes = new byte[size][];
    for (int i = 0; i < size; i++) {
      byte[] payload = new byte[payloadBytes];
      for (int k = 0; k < payloadBytes; k++) {
        payload[k] = ALPHABET[random.nextInt(ALPHABET.length)];
      }
      String text = new String(payload, StandardCharsets.US_ASCII);
      payloadParts[i] = ReplyFields.ascii(text + "\"}");
      hashes[i] = ReplyFields.ascii(PayloadHash.sha1Hex(text));
    }
    policyParts = new byte[policies.size()][];
    int longestPolicy = 0;
    for (int p = 0; p < policies.size(); p++) {
      policyParts[p] =
          ReplyFields.ascii("\", \"privPoliId\": \"" + policies.get(p) + "\", \"payload\": \"");
      longestPolicy = Math.max(longestPolicy, policyParts[p].length);
    }
    // "<conn>-<seq>": an int, a dash and a long.
    maxRequestBytes = PREFIX.length + 11 + 1 + 20 + longestPolicy + payloadBytes + 2;
  }

  int maxRequestBytes() {
    return maxRequestBytes;
  }

  /** Writes request {@code seq} of the connection whose srcid prefix is {@code connPrefix}. */
  void write(ByteBuffer out, int conn, byte[] connPrefix, long seq, byte[] digits) {
    out.put(PREFIX);
    out.put(connPrefix);
    int length = Digits.write(seq, digits);
    out.put(digits, digits.length - length, length);
    out.put(policyParts[policyIndex(conn, seq)]);
    out.put(payloadParts[payloadIndex(conn, seq)]);
  }

  /** The SHA-1 hex a correct reply to that request carries. */
  byte[] expectedHash(int conn, long seq) {
    return hashes[payloadIndex(conn, seq)];
  }

  private int policyIndex(int conn, long seq) {
    return (int) ((seq + conn) % policyParts.length);
  }

  private int payloadIndex(int conn, long seq) {
    return (int) ((seq + 7L * conn) % payloadParts.length);
  }

  /** Decimal digits of a non-negative long, written right-aligned into a scratch array. */
  static final class Digits {
    static final int MAX = 20;

    private Digits() {}

    /** Writes {@code value} at the end of {@code scratch}; returns how many digits it took. */
    static int write(long value, byte[] scratch) {
      int i = scratch.length;
      do {
        scratch[--i] = (byte) ('0' + (int) (value % 10));
        value /= 10;
      } while (value != 0);
      return scratch.length - i;
    }
  }
}
