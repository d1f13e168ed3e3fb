package revproxy.legacy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static revproxy.TestSockets.readAll;
import static revproxy.TestSockets.request;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.stream.javadsl.Tcp;
import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import revproxy.Routees;
import revproxy.TestConfigs;
import revproxy.TestSockets;
import revproxy.cluster.NodeConfig;
import revproxy.protocol.PayloadHash;
import revproxy.proxy.ProxyServer;
import revproxy.proxy.RouterActor;
import revproxy.server.HashServer;
import revproxy.worker.HashWorker;

/**
 * The attacks on registration that the security review tried, through the proxy's real TCP binding:
 * each must be refused with a type "3" error, change nothing, and cost other clients nothing.
 * 127.0.0.2 stands for another host: Linux routes all of 127.0.0.0/8 to loopback.
 */
class RegistrationAttacksTest {

  /** Also the proxy's cluster port, as far as the registry is told. */
  static final int CLUSTER_PORT = 25519;

  static final ActorTestKit testKit = ActorTestKit.create(TestConfigs.local());
  static ActorRef<RouterActor.Command> router;

  @BeforeAll
  static void start() {
    router = testKit.spawn(RouterActor.create(TestConfigs.proxySettings(Duration.ofSeconds(5))));
    testKit.spawn(HashWorker.create("good", "sec-good"));
    Routees.await(testKit, "sec-good", 1);
  }

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static LegacySettings settings(String overrides) {
    return LegacySettings.fromConfig(
        ConfigFactory.parseString(overrides).withFallback(NodeConfig.defaults()));
  }

  /** A proxy with its own registry; returns its address. */
  private record Proxy(InetSocketAddress address, ActorRef<LegacyRegistry.Command> registry) {}

  private static Proxy proxy(LegacySettings legacy) throws Exception {
    ActorRef<LegacyRegistry.Command> registry =
        testKit.spawn(LegacyRegistry.create(legacy, Set.of(CLUSTER_PORT)));
    InetSocketAddress address =
        ProxyServer.bind(
                testKit.system(),
                router,
                registry,
                TestConfigs.proxySettings(Duration.ofSeconds(5)),
                legacy.registration())
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS)
            .localAddress();
    return new Proxy(address, registry);
  }

  private static String registration(String id, String policy, int port, String extra) {
    return "{\"type\": \"1\", \"id\": \""
        + id
        + "\", \"privPolyId\": \""
        + policy
        + "\", \"listenport\": \""
        + port
        + "\""
        + extra
        + "}";
  }

  /**
   * Sends {@code packets} from {@code source} on one connection, half-closes, and returns every
   * reply until the proxy closes: none for an accepted registration, as in the original.
   */
  private static List<JsonNode> send(InetSocketAddress proxy, String source, String packets)
      throws IOException {
    try (Socket socket = new Socket()) {
      socket.bind(new InetSocketAddress(source, 0));
      socket.connect(proxy, 5000);
      socket.setSoTimeout(15_000);
      OutputStream out = socket.getOutputStream();
      out.write(packets.getBytes(StandardCharsets.UTF_8));
      out.flush();
      socket.shutdownOutput();
      return readAll(socket.getInputStream());
    }
  }

  private static void assertRefused(
      List<JsonNode> replies, String id, String code, String message) {
    assertEquals(1, replies.size(), replies.toString());
    JsonNode reply = replies.get(0);
    assertEquals("3", reply.get("type").asText(), reply.toString());
    assertEquals(id, reply.get("destid").asText(), reply.toString());
    assertEquals(code, reply.get("code").asText(), reply.toString());
    assertEquals(message, reply.get("message").asText(), reply.toString());
  }

  private static List<LegacyRegistry.BackendInfo> backends(Proxy proxy) {
    TestProbe<List<LegacyRegistry.BackendInfo>> probe = testKit.createTestProbe();
    proxy.registry().tell(new LegacyRegistry.GetBackends(probe.getRef()));
    return probe.receiveMessage(Duration.ofSeconds(5));
  }

  /** Fails if anything connects to {@code listener} within {@code millis}. */
  private static void assertNoConnection(ServerSocket listener, int millis) throws IOException {
    listener.setSoTimeout(millis);
    assertThrows(
        SocketTimeoutException.class,
        () -> listener.accept().close(),
        "the proxy connected to " + listener.getLocalSocketAddress());
  }

  /** A request of policy {@code policy} on a fresh connection, and its reply. */
  private static JsonNode route(InetSocketAddress proxy, String policy, String payload)
      throws IOException {
    List<JsonNode> replies = send(proxy, "127.0.0.1", request(payload, policy, payload));
    assertEquals(1, replies.size(), replies.toString());
    return replies.get(0);
  }

  @Test
  void aRegistrationFromOutsideAllowFromIsRefusedAndTheProxyNeverConnects() throws Exception {
    Proxy proxy = proxy(TestConfigs.legacySettings());
    int port = TestSockets.unusedPort();
    try (ServerSocket listener = new ServerSocket(port, 50, InetAddress.getByName("127.0.0.2"))) {
      List<JsonNode> replies =
          send(proxy.address(), "127.0.0.2", registration("999", "sec-far", port, ""));
      assertRefused(
          replies,
          "999",
          "registration_refused",
          "registrations are not accepted from 127.0.0.2 (revproxy.legacy.registration.allow-from)");
      assertNoConnection(listener, 1000);
    }
    assertEquals(List.of(), backends(proxy));
    assertEquals(
        "no_worker_for_policy", route(proxy.address(), "sec-far", "x").get("code").asText());
  }

  @Test
  void aTakeoverOfALiveServerIsRefusedAndTheRealOneKeepsServing() throws Exception {
    Proxy proxy = proxy(TestConfigs.legacySettings());
    Tcp.ServerBinding real =
        HashServer.bind(testKit.system(), "127.0.0.1", 0, "100", 65536)
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    assertEquals(
        List.of(),
        send(
            proxy.address(),
            "127.0.0.1",
            registration("100", "sec-live", real.localAddress().getPort(), "")));
    Routees.await(testKit, "sec-live", 1);
    try (ServerSocket impostor = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      assertRefused(
          send(
              proxy.address(),
              "127.0.0.1",
              registration("100", "sec-live", impostor.getLocalPort(), "")),
          "100",
          "registration_conflict",
          "server 100 of policy sec-live is registered from another address or port and is"
              + " reachable; it may be replaced once it has been unreachable for 5000 ms");
      for (int i = 0; i < 10; i++) {
        JsonNode reply = route(proxy.address(), "sec-live", "live-" + i);
        assertEquals("100", reply.get("srcid").asText(), reply.toString());
        assertEquals(PayloadHash.sha1Hex("live-" + i), reply.get("payload").asText());
      }
      assertNoConnection(impostor, 300);
    }
    assertEquals(1, backends(proxy).size());
  }

  @Test
  void aRegistrationNamingTheProxysOwnPortsIsRefused() throws Exception {
    Proxy proxy = proxy(TestConfigs.legacySettings());
    int clientPort = proxy.address().getPort();
    for (int port : List.of(clientPort, CLUSTER_PORT)) {
      assertRefused(
          send(proxy.address(), "127.0.0.1", registration("7", "sec-self", port, "")),
          "7",
          "registration_refused",
          "port " + port + " is one of the proxy's own ports");
    }
    assertEquals(List.of(), backends(proxy));
  }

  @Test
  void withATokenSetARegistrationWithoutItOrWithAWrongOneIsRefused() throws Exception {
    Proxy proxy = proxy(settings("revproxy.legacy.registration.token = \"s3cret\""));
    Tcp.ServerBinding server =
        HashServer.bind(testKit.system(), "127.0.0.1", 0, "300", 65536)
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    int port = server.localAddress().getPort();
    assertRefused(
        send(proxy.address(), "127.0.0.1", registration("300", "sec-token", port, "")),
        "300",
        "registration_refused",
        "this proxy requires a registration token (\"token\")");
    assertRefused(
        send(
            proxy.address(),
            "127.0.0.1",
            registration("300", "sec-token", port, ", \"token\": \"s3cre\"")),
        "300",
        "registration_refused",
        "wrong registration token");
    assertEquals(List.of(), backends(proxy));
    assertEquals(
        List.of(),
        send(
            proxy.address(),
            "127.0.0.1",
            registration("300", "sec-token", port, ", \"token\": \"s3cret\"")));
    Routees.await(testKit, "sec-token", 1);
    assertEquals("300", route(proxy.address(), "sec-token", "t").get("srcid").asText());
  }

  @Test
  void aRegistrationFloodIsBoundedAndOtherClientsAreServedMeanwhile() throws Exception {
    Proxy proxy =
        proxy(
            settings(
                "revproxy.legacy { max-backends = 50, max-connections-total = 200,"
                    + " connections-per-backend = 1 }"));
    // 5,000 registrations on one connection, each asking for 32 connections to a closed port.
    StringBuilder flood = new StringBuilder();
    for (int i = 0; i < 5000; i++) {
      int port = 40000 + i % 20000;
      flood.append(registration("f" + i, "sec-flood", port, ", \"connections\": 32"));
    }
    List<JsonNode> refusals = send(proxy.address(), "127.0.0.1", flood.toString());
    assertEquals(4996, refusals.size(), "all but max-per-connection (4) are refused");
    for (JsonNode refusal : refusals) {
      assertEquals("registration_refused", refusal.get("code").asText(), refusal.toString());
    }
    assertEquals(
        "at most 4 registrations per connection (revproxy.legacy.registration.max-per-connection)",
        refusals.get(0).get("message").asText());
    // Then 100 connections with 4 each: past max-backends or the connections left, refused.
    int accepted = 0;
    int refused = 0;
    for (int c = 0; c < 100; c++) {
      StringBuilder four = new StringBuilder();
      for (int i = 0; i < 4; i++) {
        four.append(registration("g" + c + "-" + i, "sec-flood", 50000 + c * 4 + i, ""));
      }
      List<JsonNode> replies = send(proxy.address(), "127.0.0.1", four.toString());
      accepted += 4 - replies.size();
      refused += replies.size();
      // Another client is served all along.
      JsonNode reply = route(proxy.address(), "sec-good", "during-" + c);
      assertEquals(PayloadHash.sha1Hex("during-" + c), reply.get("payload").asText());
    }
    List<LegacyRegistry.BackendInfo> backends = backends(proxy);
    assertEquals(50, backends.size(), "max-backends");
    assertEquals(46, accepted);
    assertEquals(354, refused);
    int connections = 0;
    for (LegacyRegistry.BackendInfo backend : backends) {
      connections += backend.connections();
    }
    // 4 asked for 32 each (128), 46 for 1: within max-connections-total.
    assertEquals(4 * 32 + 46, connections);
    assertTrue(connections <= 200);
  }

  @Test
  void aServerUnreachablePastForgetUnreachableAfterIsDroppedAndMayRegisterAgain() throws Exception {
    Proxy proxy =
        proxy(
            settings(
                "revproxy.legacy { forget-unreachable-after = 500ms, reconnect-max-backoff = 200ms }"));
    int port = TestSockets.unusedPort();
    assertEquals(
        List.of(), send(proxy.address(), "127.0.0.1", registration("500", "sec-gone", port, "")));
    assertEquals(1, backends(proxy).size());
    TestProbe<Void> waiter = testKit.createTestProbe();
    waiter.awaitAssert(
        Duration.ofSeconds(5),
        () -> {
          assertEquals(List.of(), backends(proxy));
          return null;
        });
    Tcp.ServerBinding back =
        HashServer.bind(testKit.system(), "127.0.0.1", port, "500", 65536)
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    assertEquals(
        List.of(),
        send(
            proxy.address(),
            "127.0.0.1",
            registration("500", "sec-gone", back.localAddress().getPort(), "")));
    Routees.await(testKit, "sec-gone", 1);
    List<String> servedBy = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      servedBy.add(route(proxy.address(), "sec-gone", "b" + i).get("srcid").asText());
    }
    assertEquals(List.of("500", "500", "500"), servedBy);
  }
}
