package revproxy.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static revproxy.TestSockets.connect;
import static revproxy.TestSockets.request;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.stream.javadsl.Tcp;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import revproxy.Main;
import revproxy.TestConfigs;
import revproxy.TestSockets;
import revproxy.protocol.PayloadHash;

/** The `server` role's TCP backend through raw sockets, and its command line. */
class HashServerTest {

  static final ActorTestKit testKit = ActorTestKit.create(TestConfigs.local());
  static final ObjectMapper JSON = new ObjectMapper();
  static InetSocketAddress server;
  static InetSocketAddress smallPacketServer;

  @BeforeAll
  static void start() throws Exception {
    server = bind("100", 65536);
    smallPacketServer = bind("100", 1024);
  }

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static InetSocketAddress bind(String serverId, int maxPacketBytes) throws Exception {
    Tcp.ServerBinding binding =
        HashServer.bind(testKit.system(), "127.0.0.1", 0, serverId, maxPacketBytes)
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    return binding.localAddress();
  }

  /** Reads exactly {@code count} back-to-back JSON objects, leaving the connection open. */
  private static List<JsonNode> read(InputStream in, int count) throws IOException {
    List<JsonNode> replies = new ArrayList<>();
    MappingIterator<JsonNode> it = JSON.readerFor(JsonNode.class).readValues(in);
    while (replies.size() < count && it.hasNextValue()) {
      replies.add(it.nextValue());
    }
    return replies;
  }

  /** Reads the back-to-back JSON objects a socket receives until it is closed. */
  private static List<JsonNode> readAll(InputStream in) throws IOException {
    return read(in, Integer.MAX_VALUE);
  }

  /** Reads exactly n bytes (a reply whose length is known), failing on a close before that. */
  private static String readBytes(InputStream in, int n) throws IOException {
    byte[] bytes = in.readNBytes(n);
    assertEquals(n, bytes.length, "connection closed early");
    return new String(bytes, StandardCharsets.UTF_8);
  }

  private static String expectedReply(String serverId, String destid, String payload) {
    // python3: json.dumps({"type": "2", "srcid": S, "destid": D, "payloadsize": 40, "payload":
    // sha1})
    return "{\"type\": \"2\", \"srcid\": \""
        + serverId
        + "\", \"destid\": \""
        + destid
        + "\", \"payloadsize\": 40, \"payload\": \""
        + PayloadHash.sha1Hex(payload)
        + "\"}";
  }

  @Test
  void oneRequestGetsExactlyTheBytesPythonJsonDumpsWrites() throws Exception {
    try (Socket socket = connect(server)) {
      socket.getOutputStream().write(request("3", "111", "xyz3").getBytes(StandardCharsets.UTF_8));
      socket.shutdownOutput();
      String reply = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      // python3: json.dumps({"type": "2", "srcid": "100", "destid": "3", "payloadsize": 40,
      //                     "payload": hashlib.sha1("xyz3".encode()).hexdigest()})
      assertEquals(
          "{\"type\": \"2\", \"srcid\": \"100\", \"destid\": \"3\", \"payloadsize\": 40, "
              + "\"payload\": \"02507026f1cd2e04059c1ee524381f1aa785661c\"}",
          reply);
      assertFalse(reply.endsWith("\n"));
    }
  }

  @Test
  void twoHundredPipelinedRequestsAreAnsweredInOrder() throws Exception {
    int count = 200;
    StringBuilder all = new StringBuilder();
    for (int i = 0; i < count; i++) {
      all.append(request("p" + i, "111", "payload-" + i));
    }
    try (Socket socket = connect(server)) {
      List<JsonNode> replies = TestSockets.pipeline(socket, all.toString());

      assertEquals(count, replies.size());
      for (int i = 0; i < count; i++) {
        JsonNode reply = replies.get(i);
        assertEquals("2", reply.get("type").asText(), reply.toString());
        assertEquals("100", reply.get("srcid").asText());
        assertEquals("p" + i, reply.get("destid").asText());
        assertEquals(40, reply.get("payloadsize").asInt());
        assertEquals(PayloadHash.sha1Hex("payload-" + i), reply.get("payload").asText());
      }
    }
  }

  @Test
  void badJsonGetsMalformedJsonAndTheConnectionKeepsWorking() throws Exception {
    try (Socket socket = connect(server)) {
      OutputStream out = socket.getOutputStream();
      InputStream in = socket.getInputStream();
      out.write("{\"type\": \"0\", \"srcid\": \"7\",, }".getBytes(StandardCharsets.UTF_8));
      out.flush();
      JsonNode error = read(in, 1).get(0);
      assertEquals("3", error.get("type").asText());
      assertEquals("malformed_json", error.get("code").asText());
      assertTrue(error.get("message").asText().startsWith("malformed JSON: "), error.toString());

      // Same connection, afterwards: still served, byte for byte.
      out.write(request("8", "111", "after").getBytes(StandardCharsets.UTF_8));
      out.flush();
      String expected = expectedReply("100", "8", "after");
      assertEquals(expected, readBytes(in, expected.length()));
    }
  }

  @Test
  void aRegistrationSentToTheServerGetsUnsupportedType() throws Exception {
    try (Socket socket = connect(server)) {
      socket
          .getOutputStream()
          .write(
              ("{\"type\": \"1\", \"id\": \"200\", \"privPolyId\": \"111\", \"listenport\": \"2110\"}"
                      + request("9", "111", "x"))
                  .getBytes(StandardCharsets.UTF_8));
      socket.shutdownOutput();
      String replies = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertEquals(
          "{\"type\": \"3\", \"destid\": null, \"code\": \"unsupported_type\", \"message\": "
              + "\"this is a backend server; send type \\\"0\\\" requests "
              + "(type \\\"1\\\" registrations go to the proxy)\"}"
              + expectedReply("100", "9", "x"),
          replies);
    }
  }

  @Test
  void otherErrorsAreSentBackAsTheCodecMakesThem() throws Exception {
    try (Socket socket = connect(server)) {
      socket
          .getOutputStream()
          .write(
              ("{\"type\": \"2\", \"srcid\": \"5\"} junk {\"type\": \"0\", \"srcid\": \"6\"}")
                  .getBytes(StandardCharsets.UTF_8));
      socket.shutdownOutput();
      List<JsonNode> replies = readAll(socket.getInputStream());
      assertEquals(3, replies.size(), replies.toString());
      assertEquals("unsupported_type", replies.get(0).get("code").asText());
      assertEquals("5", replies.get(0).get("destid").asText());
      assertEquals("not_json", replies.get(1).get("code").asText());
      assertEquals("missing_field", replies.get(2).get("code").asText());
      assertEquals("6", replies.get(2).get("destid").asText());
    }
  }

  @Test
  void tooLargePacketGetsAnErrorThenTheServerCloses() throws Exception {
    try (Socket socket = connect(smallPacketServer)) {
      OutputStream out = socket.getOutputStream();
      out.write(
          (request("before", "111", "small") + request("big", "111", "x".repeat(2000)))
              .getBytes(StandardCharsets.UTF_8));
      out.flush();
      // No shutdownOutput: the server itself must close the connection after the error.
      List<JsonNode> replies = readAll(socket.getInputStream());
      assertEquals(2, replies.size(), replies.toString());
      assertEquals("before", replies.get(0).get("destid").asText());
      assertEquals("packet_too_large", replies.get(1).get("code").asText());
    }
  }

  @Test
  void twoConnectionsAtOnceAreBothServed() throws Exception {
    try (Socket first = connect(server);
        Socket second = connect(server)) {
      // Both open; the first one's request is answered while the second is idle, then the other
      // way round, then both again: neither connection waits for the other to close.
      first
          .getOutputStream()
          .write(request("a1", "111", "first-1").getBytes(StandardCharsets.UTF_8));
      String a1 = expectedReply("100", "a1", "first-1");
      assertEquals(a1, readBytes(first.getInputStream(), a1.length()));

      second
          .getOutputStream()
          .write(request("b1", "111", "second-1").getBytes(StandardCharsets.UTF_8));
      String b1 = expectedReply("100", "b1", "second-1");
      assertEquals(b1, readBytes(second.getInputStream(), b1.length()));

      second
          .getOutputStream()
          .write(request("b2", "111", "second-2").getBytes(StandardCharsets.UTF_8));
      first
          .getOutputStream()
          .write(request("a2", "111", "first-2").getBytes(StandardCharsets.UTF_8));
      String a2 = expectedReply("100", "a2", "first-2");
      String b2 = expectedReply("100", "b2", "second-2");
      assertEquals(a2, readBytes(first.getInputStream(), a2.length()));
      assertEquals(b2, readBytes(second.getInputStream(), b2.length()));
    }
  }

  /** What one command-line execution printed and returned (no actor system is started). */
  private record Result(int exitCode, String out, String err) {}

  private static Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine commandLine = Main.commandLine();
    commandLine.setOut(new PrintWriter(out, true));
    commandLine.setErr(new PrintWriter(err, true));
    int exitCode = commandLine.execute(args);
    return new Result(exitCode, out.toString(), err.toString());
  }

  @Test
  void serverCommandRefusesABadIdBeforeStarting() {
    Result result = run("server", "-id", "1 0", "-pp", "111", "-listen", "2105");
    assertEquals(2, result.exitCode());
    assertEquals(
        "error: --id: \"1 0\" is not an id (1-64 characters of A-Z a-z 0-9 . _ -)\n"
            + "try 'akka-reverse-proxy server --help'\n",
        result.err().replace(System.lineSeparator(), "\n"));
  }

  @Test
  void serverCommandRefusesABadPolicyBeforeStarting() {
    Result result = run("server", "-id", "100", "-pp", "a/b", "-listen", "2105");
    assertEquals(2, result.exitCode());
    assertEquals(
        "error: --policy: \"a/b\" is not an id (1-64 characters of A-Z a-z 0-9 . _ -)\n"
            + "try 'akka-reverse-proxy server --help'\n",
        result.err().replace(System.lineSeparator(), "\n"));
  }

  @Test
  void serverCommandRefusesAProxyPortOutOfRange() {
    Result result = run("server", "-id", "100", "-pp", "111", "-listen", "0", "-revproc", "0");
    assertEquals(2, result.exitCode());
    assertEquals(
        "error: --proxy-port: \"0\" is not a port (1-65535)\n"
            + "try 'akka-reverse-proxy server --help'\n",
        result.err().replace(System.lineSeparator(), "\n"));
  }

  @Test
  void serverCommandRequiresTheListenPort() {
    Result result = run("server", "--id", "100", "--policy", "111");
    assertEquals(2, result.exitCode());
    assertEquals(
        "error: Missing required option: '--listen=PORT'\n"
            + "try 'akka-reverse-proxy server --help'\n",
        result.err().replace(System.lineSeparator(), "\n"));
  }
}
