package revproxy.fuzz;

import java.util.HexFormat;
import revproxy.protocol.ErrorCode;
import revproxy.protocol.Packet;

/**
 * One fuzz input. {@code intended} is the request a generator meant to build (the decoder must
 * accept exactly it); {@code expectedCode} is the code a generator knows the decoder must refuse it
 * with. Both are null when the generator makes no claim.
 */
public record Input(
    int index, String kind, byte[] bytes, Packet.Request intended, ErrorCode expectedCode) {

  public String hex() {
    int shown = Math.min(bytes.length, 160);
    return HexFormat.of().formatHex(bytes, 0, shown)
        + (shown < bytes.length ? "... (" + bytes.length + " bytes)" : "");
  }

  @Override
  public String toString() {
    return "input #" + index + " [" + kind + "] hex " + hex();
  }
}
