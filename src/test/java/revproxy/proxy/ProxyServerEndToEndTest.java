package revproxy.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static revproxy.TestSockets.connect;
import static revproxy.TestSockets.readAll;
import static revproxy.TestSockets.request;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.typed.ActorRef;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import revproxy.Routees;
import revproxy.TestConfigs;
import revproxy.TestSockets;
import revproxy.client.ClientSettings;
import revproxy.client.Exchange;
import revproxy.client.PacketFile;
import revproxy.client.ProxyClient;
import revproxy.legacy.LegacyRegistry;
import revproxy.protocol.PayloadHash;
import revproxy.worker.HashWorker;

/** Through the real TCP binding: the stream client, raw sockets, pipelining and bad input. */
class ProxyServerEndToEndTest {

  static final ActorTestKit testKit = ActorTestKit.create(TestConfigs.local());
  static final ObjectMapper JSON = new ObjectMapper();
  static InetSocketAddress proxy;
  static InetSocketAddress smallPacketProxy;
  static ActorRef<LegacyRegistry.Command> legacyServers;

  @BeforeAll
  static void start() throws Exception {
    testKit.spawn(HashWorker.create("100", "111"));
    testKit.spawn(HashWorker.create("200", "222"));
    testKit.spawn(HashWorker.create("300", "111"));
    testKit.spawn(HashWorker.create("400", "222"));
    Routees.await(testKit, "111", 2);
    Routees.await(testKit, "222", 2);
    ActorRef<RouterActor.Command> router =
        testKit.spawn(RouterActor.create(TestConfigs.proxySettings(Duration.ofSeconds(5))));
    legacyServers = testKit.spawn(LegacyRegistry.create(TestConfigs.legacySettings(), Set.of()));
    proxy = bind(router, TestConfigs.proxySettings(Duration.ofSeconds(5)));
    smallPacketProxy =
        bind(
            router,
            TestConfigs.proxySettings(Duration.ofSeconds(5), Duration.ofSeconds(5), 1024, 100));
  }

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static InetSocketAddress bind(
      ActorRef<RouterActor.Command> router, ProxySettings settings) throws Exception {
    return ProxyServer.bind(
            testKit.system(), router, legacyServers, settings, TestConfigs.registrationSettings())
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS)
        .localAddress();
  }

  /** Reads the back-to-back JSON objects a socket receives until it is closed. */
  @Test
  void everySamplePacketVerifiesThroughTheStreamClient() throws Exception {
    ClientSettings settings =
        new ClientSettings(
            "127.0.0.1",
            proxy.getPort(),
            Duration.ofSeconds(20),
            Duration.ofSeconds(5),
            65536,
            Optional.empty());
    List<PacketFile> packets = PacketFile.load(List.of(Path.of("packets")));
    List<Exchange> exchanges = new ProxyClient(testKit.system(), settings).send(packets);

    assertEquals(packets.size(), exchanges.size());
    Map<String, Set<String>> workersByPolicy = new HashMap<>();
    for (Exchange exchange : exchanges) {
      assertEquals(Exchange.Verdict.CORRECT, exchange.verdict(), exchange.sent().name());
      workersByPolicy
          .computeIfAbsent(exchange.sent().request().policyId(), p -> new TreeSet<>())
          .add(exchange.workerId());
    }
    assertEquals(Set.of("100", "300"), workersByPolicy.get("111"));
    assertEquals(Set.of("200", "400"), workersByPolicy.get("222"));
  }

  @Test
  void thousandPipelinedPacketsOnOneConnectionComeBackInOrder() throws Exception {
    int count = 1000;
    StringBuilder all = new StringBuilder();
    for (int i = 0; i < count; i++) {
      all.append(request("c" + i, i % 3 == 0 ? "222" : "111", "payload-" + i));
    }
    try (Socket socket = connect(proxy)) {
      List<JsonNode> replies = TestSockets.pipeline(socket, all.toString());

      assertEquals(count, replies.size());
      Map<String, String> lastWorkerOfPolicy = new HashMap<>();
      for (int i = 0; i < count; i++) {
        JsonNode reply = replies.get(i);
        String policy = i % 3 == 0 ? "222" : "111";
        assertEquals("2", reply.get("type").asText(), reply.toString());
        assertEquals("c" + i, reply.get("destid").asText());
        assertEquals(PayloadHash.sha1Hex("payload-" + i), reply.get("payload").asText());
        assertEquals(40, reply.get("payloadsize").asInt());
        String worker = reply.get("srcid").asText();
        assertTrue(
            policy.equals("111")
                ? Set.of("100", "300").contains(worker)
                : Set.of("200", "400").contains(worker),
            "worker " + worker + " does not serve policy " + policy);
        lastWorkerOfPolicy.put(policy, worker);
      }
      assertEquals(2, lastWorkerOfPolicy.size());
    }
  }

  @Test
  void badInputGetsATypeThreeErrorInOrderAndTheConnectionStaysUsable() throws Exception {
    String input =
        request("1", "111", "ok-before")
            + " not json "
            + "{\"type\": \"0\", \"srcid\": \"2\"}"
            + request("3", "999", "nobody")
            + "{\"type\": \"0\", \"srcid\": \"4\", \"privPoliId\": \"111\", \"payload\": 5}"
            + "{\"type\": \"9\", \"srcid\": \"5\"}"
            + "{\"type\": \"0\", \"srcid\": \"6\", \"privPoliId\": \"111\", \"payload\": \"x\", \"payloadsize\": 7}"
            + "{\"type\": \"0\", \"srcid\": \"7\",, }"
            + request("8", "222", "ok-after");
    try (Socket socket = connect(proxy)) {
      socket.getOutputStream().write(input.getBytes(StandardCharsets.UTF_8));
      socket.shutdownOutput();
      List<JsonNode> replies = readAll(socket.getInputStream());

      List<String> shapes = new ArrayList<>();
      for (JsonNode reply : replies) {
        shapes.add(
            reply.get("type").asText()
                + " "
                + reply.get("destid").asText()
                + " "
                + (reply.has("code") ? reply.get("code").asText() : reply.get("payload").asText()));
      }
      assertEquals(
          List.of(
              "2 1 " + PayloadHash.sha1Hex("ok-before"),
              "3 null not_json",
              "3 2 missing_field",
              "3 3 no_worker_for_policy",
              "3 4 invalid_field",
              "3 5 unsupported_type",
              "3 6 payloadsize_mismatch",
              "3 7 malformed_json",
              "2 8 " + PayloadHash.sha1Hex("ok-after")),
          shapes);
      assertEquals(
          "not a JSON object: expected '{' but found 'n' (8 bytes skipped)",
          replies.get(1).get("message").asText());
    }
  }

  @Test
  void tooLargePacketGetsAnErrorAfterEarlierRepliesThenTheConnectionCloses() throws Exception {
    String big = request("big", "111", "x".repeat(2000));
    try (Socket socket = connect(smallPacketProxy)) {
      OutputStream out = socket.getOutputStream();
      out.write((request("before", "111", "small") + big).getBytes(StandardCharsets.UTF_8));
      out.flush();
      // No shutdownOutput: the proxy itself must close the connection after the error.
      List<JsonNode> replies = readAll(socket.getInputStream());

      assertEquals(2, replies.size(), replies.toString());
      assertEquals("2", replies.get(0).get("type").asText());
      assertEquals("before", replies.get(0).get("destid").asText());
      assertEquals("3", replies.get(1).get("type").asText());
      assertEquals("packet_too_large", replies.get(1).get("code").asText());
      assertEquals(
          "packet larger than 1024 bytes; closing the connection",
          replies.get(1).get("message").asText());
    }
  }

  @Test
  void oneConnectionsBadInputDoesNotDisturbAnother() throws Exception {
    try (Socket bad = connect(smallPacketProxy);
        Socket good = connect(smallPacketProxy)) {
      bad.getOutputStream()
          .write(
              ("\u0000\u00ff garbage {" + "y".repeat(5000)).getBytes(StandardCharsets.ISO_8859_1));
      StringBuilder requests = new StringBuilder();
      for (int i = 0; i < 50; i++) {
        requests.append(request("g" + i, "111", "good-" + i));
      }
      good.getOutputStream().write(requests.toString().getBytes(StandardCharsets.UTF_8));
      good.shutdownOutput();

      List<JsonNode> badReplies = readAll(bad.getInputStream());
      List<JsonNode> goodReplies = readAll(good.getInputStream());

      assertEquals("not_json", badReplies.get(0).get("code").asText());
      assertEquals("packet_too_large", badReplies.get(badReplies.size() - 1).get("code").asText());
      assertEquals(50, goodReplies.size());
      for (int i = 0; i < 50; i++) {
        assertEquals(PayloadHash.sha1Hex("good-" + i), goodReplies.get(i).get("payload").asText());
      }
    }
  }

  @Test
  void halfClosedClientStillGetsEveryReply() throws Exception {
    try (Socket socket = connect(proxy)) {
      socket
          .getOutputStream()
          .write(
              (request("h1", "111", "a") + request("h2", "222", "b"))
                  .getBytes(StandardCharsets.UTF_8));
      socket.shutdownOutput();
      List<JsonNode> replies = readAll(socket.getInputStream());
      assertEquals(2, replies.size());
      assertEquals("h1", replies.get(0).get("destid").asText());
      assertEquals("h2", replies.get(1).get("destid").asText());
      assertNotEquals(replies.get(0).get("srcid").asText(), replies.get(1).get("srcid").asText());
    }
  }

  @Test
  void replyBytesAreExactlyWhatPythonJsonDumpsWrites() throws Exception {
    try (Socket socket = connect(proxy)) {
      socket.getOutputStream().write(request("7", "111", "xyz7").getBytes(StandardCharsets.UTF_8));
      socket.shutdownOutput();
      String reply = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      String worker = reply.contains("\"srcid\": \"100\"") ? "100" : "300";
      // python3: json.dumps({"type": "2", "srcid": W, "destid": "7", "payloadsize": 40, "payload":
      // sha1("xyz7")})
      assertEquals(
          "{\"type\": \"2\", \"srcid\": \""
              + worker
              + "\", \"destid\": \"7\", \"payloadsize\": 40, "
              + "\"payload\": \""
              + PayloadHash.sha1Hex("xyz7")
              + "\"}",
          reply);
      assertFalse(reply.endsWith("\n"));
    }
  }
}
