package revproxy.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static revproxy.TestSockets.connect;
import static revproxy.TestSockets.readAll;
import static revproxy.TestSockets.request;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.receptionist.Receptionist;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import revproxy.TestConfigs;
import revproxy.legacy.LegacyRegistry;
import revproxy.protocol.PayloadHash;
import revproxy.routee.Routee;
import revproxy.worker.HashWorker;

/** The proxy's resource bounds and graceful drain, through real sockets. */
class ProxyLimitsTest {

  static final ActorTestKit testKit = ActorTestKit.create(TestConfigs.local());
  static final ObjectMapper JSON = new ObjectMapper();
  static ActorRef<RouterActor.Command> router;
  static ActorRef<LegacyRegistry.Command> legacyServers;

  @BeforeAll
  static void start() {
    testKit.spawn(HashWorker.create("fast", "lim"));
    ActorRef<Routee.Command> slow = testKit.spawn(SlowWorker.create(Duration.ofMillis(700)));
    testKit.system().receptionist().tell(Receptionist.register(Routee.serviceKey("slow"), slow));
    TestProbe<Receptionist.Listing> probe = testKit.createTestProbe();
    for (String policy : List.of("lim", "slow")) {
      probe.awaitAssert(
          () -> {
            testKit
                .system()
                .receptionist()
                .tell(Receptionist.find(Routee.serviceKey(policy), probe.getRef()));
            assertEquals(
                1, probe.receiveMessage().getServiceInstances(Routee.serviceKey(policy)).size());
            return null;
          });
    }
    router = testKit.spawn(RouterActor.create(TestConfigs.proxySettings(Duration.ofSeconds(5))));
    legacyServers = testKit.spawn(LegacyRegistry.create(TestConfigs.legacySettings(), Set.of()));
  }

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static ProxyServer.Running bind(ProxySettings settings) throws Exception {
    return ProxyServer.bind(
            testKit.system(), router, legacyServers, settings, TestConfigs.registrationSettings())
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
  }

  private static void send(Socket socket, String text) throws IOException {
    socket.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
    socket.getOutputStream().flush();
  }

  /** One request and its reply, on an open connection. */
  private static JsonNode roundTrip(Socket socket, String srcid) throws IOException {
    send(socket, request(srcid, "lim", srcid));
    // One reply is one small write: a single read holds it whole.
    byte[] buffer = new byte[2048];
    int n = socket.getInputStream().read(buffer);
    return JSON.readTree(new String(buffer, 0, n, StandardCharsets.UTF_8));
  }

  @Test
  void connectionsBeyondTheLimitGetAnErrorAndAreClosedOthersAreServed() throws Exception {
    ProxyServer.Running proxy =
        bind(TestConfigs.withConnectionLimits(2, Duration.ofSeconds(60), Duration.ofSeconds(10)));
    try (Socket first = connect(proxy.localAddress());
        Socket second = connect(proxy.localAddress())) {
      assertEquals("2", roundTrip(first, "a").get("type").asText());
      assertEquals("2", roundTrip(second, "b").get("type").asText());
      try (Socket third = connect(proxy.localAddress())) {
        List<JsonNode> replies = readAll(third.getInputStream());
        assertEquals(1, replies.size(), replies.toString());
        assertEquals("too_many_connections", replies.get(0).get("code").asText());
        assertEquals(
            "the proxy already serves 2 connections; try again later",
            replies.get(0).get("message").asText());
      }
      // The first two are unaffected.
      assertEquals(PayloadHash.sha1Hex("c"), roundTrip(first, "c").get("payload").asText());
    }
    // Once they are closed, there is room again.
    TestProbe<Void> waiter = testKit.createTestProbe();
    waiter.awaitAssert(
        () -> {
          try (Socket again = connect(proxy.localAddress())) {
            assertEquals("2", roundTrip(again, "d").get("type").asText());
          } catch (IOException e) {
            throw new AssertionError(e);
          }
          return null;
        });
  }

  @Test
  void packetNotFinishedInTimeGetsAnErrorThenTheConnectionCloses() throws Exception {
    ProxyServer.Running proxy =
        bind(TestConfigs.withConnectionLimits(10, Duration.ofSeconds(60), Duration.ofMillis(300)));
    try (Socket slowloris = connect(proxy.localAddress())) {
      send(slowloris, request("ok", "lim", "first") + "{\"type\": \"0\", \"srcid\": \"never");
      List<JsonNode> replies = readAll(slowloris.getInputStream());
      assertEquals(2, replies.size(), replies.toString());
      assertEquals(PayloadHash.sha1Hex("first"), replies.get(0).get("payload").asText());
      assertEquals("packet_timeout", replies.get(1).get("code").asText());
      assertEquals(
          "packet not completed within 300 ms; closing the connection",
          replies.get(1).get("message").asText());
    }
  }

  @Test
  void idleConnectionIsClosedCleanly() throws Exception {
    ProxyServer.Running proxy =
        bind(TestConfigs.withConnectionLimits(10, Duration.ofMillis(400), Duration.ofSeconds(10)));
    try (Socket idle = connect(proxy.localAddress())) {
      assertEquals("2", roundTrip(idle, "before").get("type").asText());
      long start = System.nanoTime();
      int read = idle.getInputStream().read();
      assertEquals(-1, read);
      assertTrue(
          System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5), "closed by the idle timeout");
    }
  }

  @Test
  void aConnectionThatSendsOnlyWhitespaceIsClosedByTheIdleTimeout() throws Exception {
    ProxyServer.Running proxy =
        bind(TestConfigs.withConnectionLimits(10, Duration.ofMillis(600), Duration.ofSeconds(10)));
    try (Socket trickle = connect(proxy.localAddress())) {
      assertEquals("2", roundTrip(trickle, "before").get("type").asText());
      long start = System.nanoTime();
      // A space every 150 ms, four times per idle timeout, for at most 5 s.
      boolean closed = false;
      for (int i = 0; i < 33 && !closed; i++) {
        try {
          send(trickle, i % 2 == 0 ? " " : "\r\n");
          Thread.sleep(150);
          trickle.setSoTimeout(1);
          closed = trickle.getInputStream().read() == -1;
        } catch (java.net.SocketTimeoutException stillOpen) {
          // nothing to read yet
        } catch (IOException reset) {
          closed = true; // written to after the proxy closed
        }
      }
      long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
      assertTrue(closed, "still open after " + elapsedMillis + " ms of whitespace");
      assertTrue(elapsedMillis >= 550, "closed after only " + elapsedMillis + " ms");
    }
  }

  @Test
  void drainAnswersRequestsInFlightThenClosesAndAcceptsNoMore() throws Exception {
    ProxyServer.Running proxy =
        bind(TestConfigs.withConnectionLimits(10, Duration.ofSeconds(60), Duration.ofSeconds(10)));
    try (Socket busy = connect(proxy.localAddress())) {
      // Three requests the slow worker holds for 700 ms each, in flight when the drain starts.
      send(
          busy,
          request("s1", "slow", "p1") + request("s2", "slow", "p2") + request("s3", "slow", "p3"));
      Thread.sleep(200);
      proxy.unbind().toCompletableFuture().get(5, TimeUnit.SECONDS);
      CompletableFuture<?> drained = proxy.connections().drain();
      // Sent after the drain started: not read, not answered.
      send(busy, request("late", "slow", "p4"));

      List<JsonNode> replies = readAll(busy.getInputStream());
      List<String> destids = new ArrayList<>();
      for (JsonNode reply : replies) {
        assertEquals("2", reply.get("type").asText(), reply.toString());
        destids.add(reply.get("destid").asText());
      }
      assertEquals(List.of("s1", "s2", "s3"), destids);
      drained.get(5, TimeUnit.SECONDS);
      assertEquals(0, proxy.connections().connections());
    }
    try (Socket refused = new Socket()) {
      boolean accepted;
      try {
        refused.connect(proxy.localAddress(), 1000);
        accepted = true;
      } catch (IOException expected) {
        accepted = false;
      }
      assertEquals(false, accepted, "no new connections after unbind");
    }
  }
}
