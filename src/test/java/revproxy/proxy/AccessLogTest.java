package revproxy.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static revproxy.TestSockets.connect;
import static revproxy.TestSockets.readAll;
import static revproxy.TestSockets.request;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import java.io.ByteArrayInputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import revproxy.LogCapture;
import revproxy.Routees;
import revproxy.TestConfigs;
import revproxy.legacy.LegacyRegistry;
import revproxy.worker.HashWorker;

/** With revproxy.proxy.access-log on: one line per closed client connection, on revproxy.access. */
class AccessLogTest {

  static final ActorTestKit testKit = ActorTestKit.create(TestConfigs.local());
  static ActorRef<RouterActor.Command> router;
  static ActorRef<LegacyRegistry.Command> legacyServers;
  LogCapture log;

  @BeforeAll
  static void start() {
    testKit.spawn(HashWorker.create("100", "acc"));
    Routees.await(testKit, "acc", 1);
    router = testKit.spawn(RouterActor.create(TestConfigs.proxySettings(Duration.ofSeconds(5))));
    legacyServers = testKit.spawn(LegacyRegistry.create(TestConfigs.legacySettings(), Set.of()));
  }

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void captureTheAccessLog() {
    log = new LogCapture(AccessLog.LOGGER);
  }

  @AfterEach
  void stopCapturing() {
    log.close();
  }

  private static ProxyServer.Running bind(ProxySettings settings) throws Exception {
    return ProxyServer.bind(
            testKit.system(), router, legacyServers, settings, TestConfigs.registrationSettings())
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
  }

  /** The access-log line of the connection from {@code socket}'s port, once it is written. */
  private String lineOf(Socket socket) {
    String peer = "INFO peer=127.0.0.1:" + socket.getLocalPort() + " ";
    TestProbe<Void> probe = testKit.createTestProbe();
    return probe.awaitAssert(
        Duration.ofSeconds(10),
        () -> {
          List<String> lines = log.lines().stream().filter(line -> line.startsWith(peer)).toList();
          assertEquals(1, lines.size(), log.lines().toString());
          return lines.get(0);
        });
  }

  private static void assertLine(String line, String counts) {
    assertTrue(line.matches("INFO peer=127\\.0\\.0\\.1:\\d+ duration_ms=\\d+ " + counts), line);
  }

  @Test
  void aClientThatClosesIsOneLineWithItsCounts() throws Exception {
    ProxyServer.Running proxy = bind(TestConfigs.withAccessLog(100, Duration.ofSeconds(60), 65536));
    String sent = request("1", "acc", "a") + request("2", "acc", "b") + "hello";
    try (Socket socket = connect(proxy.localAddress())) {
      socket.getOutputStream().write(sent.getBytes(StandardCharsets.UTF_8));
      socket.shutdownOutput();
      byte[] received = socket.getInputStream().readAllBytes();
      assertEquals(3, readAll(new ByteArrayInputStream(received)).size());
      assertLine(
          lineOf(socket),
          "requests=3 replies=3 errors=1 bytes_in="
              + sent.length()
              + " bytes_out="
              + received.length
              + " end=client_closed");
    }
  }

  @Test
  void anIdleConnectionClosedByTheProxySaysSo() throws Exception {
    ProxyServer.Running proxy = bind(TestConfigs.withAccessLog(100, Duration.ofMillis(300), 65536));
    try (Socket socket = connect(proxy.localAddress())) {
      assertEquals(List.of(), readAll(socket.getInputStream()));
      assertLine(
          lineOf(socket), "requests=0 replies=0 errors=0 bytes_in=0 bytes_out=0 end=idle_timeout");
    }
  }

  @Test
  void aConnectionClosedAfterAPacketTooLargeSaysSo() throws Exception {
    ProxyServer.Running proxy = bind(TestConfigs.withAccessLog(100, Duration.ofSeconds(60), 100));
    String tooLarge = request("1", "acc", "x".repeat(200));
    try (Socket socket = connect(proxy.localAddress())) {
      socket.getOutputStream().write(tooLarge.getBytes(StandardCharsets.UTF_8));
      byte[] received = socket.getInputStream().readAllBytes();
      assertEquals(
          "packet_too_large",
          readAll(new ByteArrayInputStream(received)).get(0).get("code").asText());
      assertLine(
          lineOf(socket),
          "requests=1 replies=1 errors=1 bytes_in=\\d+ bytes_out="
              + received.length
              + " end=packet_too_large");
    }
  }

  @Test
  void aConnectionRefusedPastMaxConnectionsSaysSo() throws Exception {
    ProxyServer.Running proxy = bind(TestConfigs.withAccessLog(1, Duration.ofSeconds(60), 65536));
    try (Socket first = connect(proxy.localAddress());
        Socket refused = connect(proxy.localAddress())) {
      assertEquals(
          "too_many_connections", readAll(refused.getInputStream()).get(0).get("code").asText());
      assertLine(
          lineOf(refused),
          "requests=0 replies=1 errors=1 bytes_in=0 bytes_out=\\d+ end=too_many_connections");
    }
  }
}
