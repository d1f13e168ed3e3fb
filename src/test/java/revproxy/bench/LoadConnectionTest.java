package revproxy.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import revproxy.protocol.PayloadHash;

/**
 * One load connection against a scripted peer on a plain socket (no Akka, no proxy): each reply
 * answers the oldest request in flight and is counted exactly as what it is; a connection that
 * breaks or stays silent counts its requests in flight and is opened again.
 */
class LoadConnectionTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** What the peer does with request {@code index} (counted over all its connections). */
  private interface Script {
    /** The bytes to write, "" for nothing yet, or null to close the connection instead. */
    String answer(int index, JsonNode request);
  }

  /**
   * A server that accepts one connection at a time, reads requests one by one and answers as the
   * script says; a closed connection is followed by the next one.
   */
  private static final class Peer implements AutoCloseable {
    final ServerSocket server;
    final Thread thread;

    Peer(Script script) throws IOException {
      server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      thread = new Thread(() -> serve(script), "scripted-peer");
      thread.setDaemon(true);
      thread.start();
    }

    int port() {
      return server.getLocalPort();
    }

    private void serve(Script script) {
      int index = 0;
      while (!server.isClosed()) {
        try (Socket socket = server.accept();
            JsonParser requests = JSON.getFactory().createParser(socket.getInputStream())) {
          OutputStream out = socket.getOutputStream();
          while (requests.nextToken() != null) {
            String answer = script.answer(index++, JSON.readTree(requests));
            if (answer == null) {
              break;
            }
            out.write(answer.getBytes(StandardCharsets.UTF_8));
            out.flush();
          }
        } catch (IOException closed) {
          // the generator closed the connection, or the test closed the server
        }
      }
    }

    @Override
    public void close() throws IOException {
      server.close();
    }
  }

  private static String reply(String destid, String payloadHash) {
    return "{\"type\": \"2\", \"srcid\": \"100\", \"destid\": \""
        + destid
        + "\", \"payloadsize\": 40, \"payload\": \""
        + payloadHash
        + "\"}";
  }

  private static String correct(JsonNode request) {
    return reply(
        request.get("srcid").asText(), PayloadHash.sha1Hex(request.get("payload").asText()));
  }

  /** Requests from one connection, pipelined, with no warmup. */
  private static BenchResult run(Peer peer, int requests, int pipeline, Duration timeout)
      throws InterruptedException {
    BenchSettings settings =
        new BenchSettings(
            "127.0.0.1",
            peer.port(),
            List.of(),
            1,
            pipeline,
            Duration.ZERO,
            requests,
            0,
            16,
            List.of("111"),
            Duration.ZERO,
            timeout,
            Duration.ofSeconds(2),
            1,
            0,
            Optional.empty());
    return LoadGenerator.run(settings, null);
  }

  @Test
  void everyReplyIsCountedAsWhatItIs() throws Exception {
    String[] sent = new String[7];
    String[] hashes = new String[7];
    Script script =
        (index, request) -> {
          String destid = request.get("srcid").asText();
          String hash = PayloadHash.sha1Hex(request.get("payload").asText());
          hashes[index] = hash;
          sent[index] =
              switch (index) {
                case 0, 6 -> correct(request);
                case 1 -> reply(destid, PayloadHash.sha1Hex("something else"));
                case 2 -> reply("0-1", hash);
                case 3 ->
                    "{\"type\": \"3\", \"destid\": \""
                        + destid
                        + "\", \"code\": \"no_worker_for_policy\", \"message\": \"none\"}";
                case 4 -> "{\"type\": \"1\", \"destid\": \"" + destid + "\"}";
                default -> "{\"type\" \"2\"}";
              };
          return sent[index];
        };
    try (Peer peer = new Peer(script)) {
      BenchResult result = run(peer, 7, 1, Duration.ofSeconds(5));
      Outcomes measured = result.measured();
      assertEquals(7, measured.requests());
      assertEquals(2, measured.ok());
      assertEquals(4, measured.wrong());
      assertEquals(Map.of("no_worker_for_policy", 1L), measured.errors());
      assertEquals(0, measured.timeouts() + measured.lost());
      assertEquals(0, result.malformed());
      assertEquals(0, result.connectionErrors());
      assertEquals(2, result.latencyMicros().getTotalCount());
      assertEquals(
          List.of(
              "wrong reply to 0-1 (expected destid \"0-1\" and payload \""
                  + hashes[1]
                  + "\"): "
                  + sent[1],
              "wrong reply to 0-2 (expected destid \"0-2\" and payload \""
                  + hashes[2]
                  + "\"): "
                  + sent[2],
              "error reply to 0-3: " + sent[3],
              "unexpected reply type to 0-4: " + sent[4],
              "malformed reply to 0-5: " + sent[5]),
          result.problems());
      assertFalse(result.passed());
    }
  }

  @Test
  void aBurstOfRepliesInOneReadAnswersTheRequestsInFlightOldestFirst() throws Exception {
    // Four requests in flight; the peer answers each four at once, the first four in reverse.
    StringBuilder burst = new StringBuilder();
    Script script =
        (index, request) -> {
          String answer = correct(request);
          if (index < 4) {
            burst.insert(0, answer);
          } else {
            burst.append(answer);
          }
          if (index % 4 != 3) {
            return "";
          }
          String out = burst.toString();
          burst.setLength(0);
          return out;
        };
    try (Peer peer = new Peer(script)) {
      BenchResult result = run(peer, 8, 4, Duration.ofSeconds(5));
      // Reversed, requests 0 and 3 got each other's reply and 1 and 2 each other's.
      assertEquals(4, result.measured().ok());
      assertEquals(4, result.measured().wrong());
      assertEquals(0, result.malformed());
      assertEquals(
          List.of(
              "wrong reply to 0-0",
              "wrong reply to 0-1",
              "wrong reply to 0-2",
              "wrong reply to 0-3"),
          result.problems().stream().map(p -> p.substring(0, p.indexOf(" ("))).toList());
    }
  }

  @Test
  void aConnectionClosedWithARequestInFlightLosesItAndIsOpenedAgain() throws Exception {
    try (Peer peer = new Peer((index, request) -> index == 1 ? null : correct(request))) {
      BenchResult result = run(peer, 5, 1, Duration.ofSeconds(5));
      assertEquals(5, result.measured().requests());
      assertEquals(4, result.measured().ok());
      assertEquals(1, result.measured().lost());
      assertEquals(1, result.connectionErrors());
      assertEquals(
          List.of(
              "connection 0 to "
                  + new InetSocketAddress("127.0.0.1", peer.port())
                  + ": connection closed by the server"),
          result.problems());
      assertFalse(result.passed());
    }
  }

  @Test
  void aReplyToNoRequestAndBytesOutsideAnyObjectAreMalformed() throws Exception {
    String extra = reply("0-7", PayloadHash.sha1Hex("x"));
    try (Peer peer = new Peer((index, request) -> correct(request) + " oops " + extra)) {
      BenchResult result = run(peer, 1, 1, Duration.ofSeconds(5));
      assertEquals(1, result.measured().ok());
      assertEquals(1, result.measured().requests());
      assertEquals(2, result.malformed());
      assertEquals(
          List.of(
              "bytes outside any JSON object on connection 0",
              "a reply with no request in flight on connection 0: " + extra),
          result.problems());
      assertFalse(result.passed());
    }
  }

  @Test
  void requestsWithoutAReplyTimeOutAndTheConnectionIsOpenedAgain() throws Exception {
    // Silent on the first connection; the generator gives up on it after the timeout.
    try (Peer peer = new Peer((index, request) -> index < 2 ? "" : correct(request))) {
      BenchResult result = run(peer, 2, 2, Duration.ofSeconds(1));
      assertEquals(2, result.measured().requests());
      assertEquals(2, result.measured().timeouts());
      assertEquals(0, result.measured().ok());
      assertEquals(0, result.connectionErrors());
      assertEquals(
          "no reply within 1000 ms on connection 0 (2 in flight); reconnecting",
          result.problems().get(0));
    }
  }
}
