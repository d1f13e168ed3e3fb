package revproxy.client;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import revproxy.protocol.Decoded;
import revproxy.protocol.ErrorCode;
import revproxy.protocol.Packet;

/** The per-packet report line; {@link ClientRun#line} needs no network. */
class ClientRunTest {

  /** python3: hashlib.sha1("xyz3".encode()).hexdigest() */
  private static final String SHA1_XYZ3 = "02507026f1cd2e04059c1ee524381f1aa785661c";

  /** python3: hashlib.sha1("xyz4".encode()).hexdigest() */
  private static final String SHA1_XYZ4 = "54322de1dee85b932a3b5d850680eabed4fceb63";

  private static final PacketFile XYZ3 =
      PacketFile.parse(
          "packets/3.json",
          "{\"type\": \"0\", \"srcid\": \"3\", \"privPoliId\": \"222\", \"payload\": \"xyz3\"}"
              .getBytes(UTF_8));

  @Test
  void correctReplyLineNamesFileSrcidPolicyAndWorkerInPaddedColumns() {
    assertEquals(
        "packets/3.json   srcid=3      policy=222   worker=100   Hash of payload is correct",
        ClientRun.line(
            new Exchange(XYZ3, new Decoded.Ok(new Packet.Reply("100", "3", SHA1_XYZ3)))));
  }

  @Test
  void wrongHashLineShowsExpectedAndReceived() {
    assertEquals(
        "packets/3.json   srcid=3      policy=222   worker=300   Hash of payload is NOT correct"
            + " (expected "
            + SHA1_XYZ3
            + " for destid 3, got "
            + SHA1_XYZ4
            + " for destid 3)",
        ClientRun.line(
            new Exchange(XYZ3, new Decoded.Ok(new Packet.Reply("300", "3", SHA1_XYZ4)))));
  }

  @Test
  void wrongDestidLineShowsExpectedAndReceived() {
    assertEquals(
        "packets/3.json   srcid=3      policy=222   worker=300   Hash of payload is NOT correct"
            + " (expected "
            + SHA1_XYZ3
            + " for destid 3, got "
            + SHA1_XYZ3
            + " for destid 4)",
        ClientRun.line(
            new Exchange(XYZ3, new Decoded.Ok(new Packet.Reply("300", "4", SHA1_XYZ3)))));
  }

  @Test
  void requestEchoedBackLineSaysSo() {
    assertEquals(
        "packets/3.json   srcid=3      policy=222   worker=-     Hash of payload is NOT correct"
            + " (got a request packet back)",
        ClientRun.line(new Exchange(XYZ3, new Decoded.Ok(new Packet.Request("3", "222", "xyz3")))));
  }

  @Test
  void errorLineShowsCodeAndMessage() {
    assertEquals(
        "packets/3.json   srcid=3      policy=222   worker=-     ERROR no_worker_for_policy:"
            + " no worker serves policy 222",
        ClientRun.line(
            new Exchange(
                XYZ3,
                new Decoded.Ok(
                    new Packet.Error(
                        "3", "no_worker_for_policy", "no worker serves policy 222")))));
  }

  /**
   * The same code and message, once as a type "3" packet the proxy sent and once as a reply the
   * client could not decode: only the first is the proxy's ERROR.
   */
  @Test
  void unreadableReplyLineIsNotShownAsAnErrorOfTheProxy() {
    String message = "not a JSON object: expected '{' but found 'H' (18 bytes skipped)";
    assertEquals(
        "packets/3.json   srcid=3      policy=222   worker=-     ERROR not_json: " + message,
        ClientRun.line(
            new Exchange(XYZ3, new Decoded.Ok(new Packet.Error(null, "not_json", message)))));
    assertEquals(
        "packets/3.json   srcid=3      policy=222   worker=-     Hash of payload is NOT correct"
            + " (unreadable reply: not_json: "
            + message
            + ")",
        ClientRun.line(new Exchange(XYZ3, new Decoded.Refused(null, ErrorCode.NOT_JSON, message))));
  }

  @Test
  void missingReplyLineSaysNoReply() {
    assertEquals(
        "packets/3.json   srcid=3      policy=222   worker=-     NO REPLY (connection closed or timed out)",
        ClientRun.line(new Exchange(XYZ3, null)));
  }

  @Test
  void longValuesWidenTheirColumnsInsteadOfBeingCut() {
    PacketFile file =
        PacketFile.parse(
            "/tmp/some/longer/dir/123.json",
            "{\"type\": \"0\", \"srcid\": \"1234567\", \"privPoliId\": \"policy-x\", \"payload\": \"xyz3\"}"
                .getBytes(UTF_8));
    assertEquals(
        "/tmp/some/longer/dir/123.json srcid=1234567 policy=policy-x worker=worker-9"
            + " Hash of payload is correct",
        ClientRun.line(
            new Exchange(
                file, new Decoded.Ok(new Packet.Reply("worker-9", "1234567", SHA1_XYZ3)))));
  }
}
