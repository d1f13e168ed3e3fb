package revproxy.protocol;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-1 of a payload's UTF-8 bytes as lowercase hex, the value a reply carries. */
public final class PayloadHash {

  /** Length of a SHA-1 hex string; the original writes it as the reply's {@code payloadsize}. */
  public static final int HEX_LENGTH = 40;

  private static final HexFormat HEX = HexFormat.of();

  // MessageDigest is not thread-safe and costly to look up; one per thread is reused.
  private static final ThreadLocal<MessageDigest> SHA1 =
      ThreadLocal.withInitial(
          () -> {
            try {
              return MessageDigest.getInstance("SHA-1");
            } catch (NoSuchAlgorithmException e) {
              throw new IllegalStateException("every Java platform must provide SHA-1", e);
            }
          });

  private PayloadHash() {}

  public static String sha1Hex(String payload) {
    return HEX.formatHex(SHA1.get().digest(payload.getBytes(StandardCharsets.UTF_8)));
  }
}
