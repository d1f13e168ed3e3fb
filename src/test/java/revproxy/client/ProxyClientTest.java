package revproxy.client;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import revproxy.TestConfigs;
import revproxy.protocol.Decoded;
import revproxy.protocol.ErrorCode;
import revproxy.protocol.Packet;

/** The stream client and its report against a raw socket standing for the proxy. */
class ProxyClientTest {

  static final ActorTestKit testKit = ActorTestKit.create(TestConfigs.local());

  /** A well-formed type "3", then a type "2" without its destid, which does not decode. */
  static final String REPLIES =
      "{\"type\": \"3\", \"destid\": \"3\", \"code\": \"timeout\", \"message\": \"too slow\"}"
          + "{\"type\": \"2\", \"srcid\": \"100\", \"payload\": \"x\"}";

  static final List<PacketFile> PACKETS = List.of(packet("3"), packet("4"));

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static PacketFile packet(String srcid) {
    String json =
        "{\"type\": \"0\", \"srcid\": \""
            + srcid
            + "\", \"privPoliId\": \"222\", \"payload\": \"x\"}";
    return PacketFile.parse(srcid + ".json", json.getBytes(UTF_8));
  }

  /** On each connection: reads the two requests, answers {@link #REPLIES}, waits for the close. */
  private static void answering(ServerSocket proxy) {
    int requestBytes = PACKETS.get(0).bytes().length() + PACKETS.get(1).bytes().length();
    Thread thread =
        new Thread(
            () -> {
              try {
                while (true) {
                  try (Socket accepted = proxy.accept()) {
                    InputStream in = accepted.getInputStream();
                    in.readNBytes(requestBytes);
                    accepted.getOutputStream().write(REPLIES.getBytes(UTF_8));
                    in.readAllBytes();
                  }
                }
              } catch (IOException closed) {
                // the test is over
              }
            });
    thread.setDaemon(true);
    thread.start();
  }

  private static ProxyClient client(ServerSocket proxy) {
    return new ProxyClient(
        testKit.system(),
        new ClientSettings(
            "127.0.0.1",
            proxy.getLocalPort(),
            Duration.ofSeconds(10),
            Duration.ofSeconds(1),
            65536,
            Optional.empty()));
  }

  @Test
  void aTypeThreeReplyIsTheProxysErrorWhileAnUnreadableReplyIsNotCorrect() throws Exception {
    try (ServerSocket proxy = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      answering(proxy);
      List<Exchange> exchanges = client(proxy).send(PACKETS);
      assertEquals(
          List.of(
              new Decoded.Ok(new Packet.Error("3", "timeout", "too slow")),
              new Decoded.Refused("100", ErrorCode.MISSING_FIELD, "missing field \"destid\"")),
          exchanges.stream().map(Exchange::reply).toList());
      assertEquals(
          List.of(Exchange.Verdict.ERROR, Exchange.Verdict.NOT_CORRECT),
          exchanges.stream().map(Exchange::verdict).toList());

      ByteArrayOutputStream printed = new ByteArrayOutputStream();
      int status =
          ClientRun.run(
              client(proxy),
              PACKETS,
              Map.of(),
              Duration.ZERO,
              new PrintStream(printed, true, UTF_8));
      assertEquals(1, status);
      assertEquals(
          "3.json           srcid=3      policy=222   worker=-     ERROR timeout: too slow\n"
              + "4.json           srcid=4      policy=222   worker=-     Hash of payload is NOT"
              + " correct (unreadable reply: missing_field: missing field \"destid\")\n"
              + "\n"
              + "2 packets: 0 correct, 1 NOT correct, 1 errors, 0 without reply\n"
              + "RESULT: FAILED\n",
          printed.toString(UTF_8));
    }
  }
}
