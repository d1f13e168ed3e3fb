package revproxy.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.stream.TLSClosing;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Tcp;
import akka.util.ByteString;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import revproxy.Main;
import revproxy.Routees;
import revproxy.TestCerts;
import revproxy.TestConfigs;
import revproxy.TestSockets;
import revproxy.legacy.LegacyRegistry;
import revproxy.protocol.Decoded;
import revproxy.protocol.ErrorCode;
import revproxy.protocol.Packet;
import revproxy.protocol.PacketCodec;
import revproxy.protocol.PacketFraming;
import revproxy.protocol.PayloadHash;
import revproxy.proxy.ProxyServer;
import revproxy.proxy.RouterActor;
import revproxy.server.HashServer;
import revproxy.tls.TlsDir;
import revproxy.worker.HashWorker;

/**
 * The `bench` role end to end, through the command line: against the real `server` backend every
 * reply verifies; against servers that answer wrongly every request is counted as what it got.
 */
class LoadGeneratorTest {

  static final ActorTestKit testKit = ActorTestKit.create(TestConfigs.local());
  static final ObjectMapper JSON = new ObjectMapper();
  static int hashServerPort;
  static int wrongHashPort;
  static int errorPort;

  /** The proxy with TLS on its client port, requiring client certificates. */
  static int tlsProxyPort;

  @BeforeAll
  static void start() throws Exception {
    hashServerPort =
        HashServer.bind(testKit.system(), "127.0.0.1", 0, "100", 65536)
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS)
            .localAddress()
            .getPort();
    // Right type and destid, hash of something else.
    wrongHashPort =
        fakeServer(
            request ->
                new Packet.Reply(
                    "666", request.srcid(), PayloadHash.sha1Hex(request.payload() + "x")));
    errorPort =
        fakeServer(
            request ->
                Packet.Error.of(
                    request.srcid(), ErrorCode.NO_WORKER_FOR_POLICY, "no worker serves it"));
    testKit.spawn(HashWorker.create("100", "111"));
    testKit.spawn(HashWorker.create("200", "222"));
    Routees.await(testKit, "111", 1);
    Routees.await(testKit, "222", 1);
    tlsProxyPort =
        ProxyServer.bind(
                testKit.system(),
                testKit.spawn(RouterActor.create(TestConfigs.proxySettings(Duration.ofSeconds(5)))),
                testKit.spawn(LegacyRegistry.create(TestConfigs.legacySettings(), Set.of())),
                TestConfigs.withClientTls(
                    "127.0.0.1", TestCerts.cluster(), true, 1000, Duration.ofSeconds(60)),
                TestConfigs.registrationSettings())
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS)
            .localAddress()
            .getPort();
  }

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  /** A server of the wire protocol that answers each request with {@code answer}. */
  private static int fakeServer(Function<Packet.Request, Packet> answer) throws Exception {
    Flow<ByteString, ByteString, ?> flow =
        Flow.of(ByteString.class)
            .via(PacketFraming.flow(65536))
            .map(
                frame ->
                    PacketCodec.encode(
                        answer.apply(
                            (Packet.Request)
                                ((Decoded.Ok) PacketCodec.decodeRequest(frame)).packet())));
    InetSocketAddress address =
        Tcp.get(testKit.system())
            .bind("127.0.0.1", 0)
            .to(Sink.foreach(connection -> connection.handleWith(flow, testKit.system())))
            .run(testKit.system())
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS)
            .localAddress();
    return address.getPort();
  }

  private record Run(int exitCode, JsonNode json, String out, String err) {}

  private static Run bench(String... options) throws Exception {
    List<String> args = new ArrayList<>(List.of("bench", "--json"));
    args.addAll(List.of(options));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine commandLine = Main.commandLine();
    commandLine.setOut(new PrintWriter(out, true));
    commandLine.setErr(new PrintWriter(err, true));
    int exitCode = commandLine.execute(args.toArray(String[]::new));
    JsonNode json = exitCode == 2 ? null : JSON.readTree(out.toString());
    return new Run(exitCode, json, out.toString(), err.toString());
  }

  @Test
  void everyReplyOfTheHashServerVerifies() throws Exception {
    Run run =
        bench(
            "--port", "" + hashServerPort,
            "--requests", "2000",
            "--connections", "4",
            "--pipeline", "4",
            "--warmup", "0s");
    JsonNode json = run.json();
    assertEquals(0, run.exitCode(), run.out());
    assertEquals(2000, json.get("requests").asLong());
    assertEquals(2000, json.get("ok").asLong());
    assertEquals(0, json.get("wrong").asLong());
    assertEquals(0, json.get("error_count").asLong());
    assertEquals(0, json.get("timeouts").asLong());
    assertEquals(0, json.get("lost").asLong());
    assertEquals(0, json.get("connection_errors").asLong());
    assertEquals(0, json.get("malformed").asLong());
    assertEquals(2000, json.get("latency_us").get("count").asLong());
    assertTrue(json.get("passed").asBoolean());
  }

  @Test
  void aServerAnsweringWrongHashesFailsEveryRequest() throws Exception {
    Run run =
        bench(
            "--port", "" + wrongHashPort,
            "--requests", "2000",
            "--connections", "4",
            "--pipeline", "4",
            "--warmup", "0s");
    JsonNode json = run.json();
    assertEquals(1, run.exitCode(), run.out());
    assertEquals(2000, json.get("requests").asLong());
    assertEquals(2000, json.get("wrong").asLong());
    assertEquals(0, json.get("ok").asLong());
    assertEquals(0, json.get("error_count").asLong());
    assertEquals(0, json.get("timeouts").asLong());
    assertTrue(json.get("problems").get(0).asText().startsWith("wrong reply to "), run.out());
    assertTrue(!json.get("passed").asBoolean());
  }

  @Test
  void errorRepliesAreCountedByCode() throws Exception {
    Run run =
        bench(
            "--port", "" + errorPort, "--requests", "300", "-c", "3", "-p", "2", "--warmup", "0s");
    JsonNode json = run.json();
    assertEquals(1, run.exitCode(), run.out());
    assertEquals(300, json.get("error_count").asLong());
    assertEquals(300, json.get("errors").get("no_worker_for_policy").asLong());
    assertEquals(0, json.get("ok").asLong());
    assertEquals(0, json.get("wrong").asLong());
  }

  @Test
  void openLoopSendsExactlyTheRequestedCountAtTheRate() throws Exception {
    Run run =
        bench(
            "--port", "" + hashServerPort,
            "--rate", "4000",
            "--requests", "2000",
            "--connections", "4",
            "--pipeline", "4",
            "--warmup", "0s");
    JsonNode json = run.json();
    assertEquals(0, run.exitCode(), run.out());
    assertEquals("open", json.get("mode").asText());
    assertEquals(2000, json.get("ok").asLong());
    // 2000 requests at 4000/s are scheduled over half a second.
    assertTrue(json.get("window_s").asDouble() >= 0.45, run.out());
  }

  @Test
  void warmupRequestsAreCheckedButNotCounted() throws Exception {
    Run run =
        bench(
            "--port", "" + hashServerPort,
            "--requests", "500",
            "--connections", "2",
            "--pipeline", "2",
            "--warmup", "300ms");
    JsonNode json = run.json();
    assertEquals(0, run.exitCode(), run.out());
    assertEquals(500, json.get("ok").asLong());
    assertTrue(json.get("warmup").get("requests").asLong() > 0, run.out());
    assertEquals(
        json.get("warmup").get("requests").asLong(), json.get("warmup").get("ok").asLong());
    assertEquals(
        500 + json.get("warmup").get("requests").asLong(), json.get("total_requests").asLong());
  }

  @Test
  void progressLinesGoToStderrWhenAskedFor() throws Exception {
    Run run =
        bench(
            "--port",
            "" + hashServerPort,
            "--rate",
            "200",
            "--duration",
            "1s",
            "--warmup",
            "2s",
            "--connections",
            "2",
            "--progress");
    assertEquals(0, run.exitCode(), run.out());
    List<String> lines = run.err().lines().toList();
    assertTrue(lines.size() >= 2, run.err());
    // Seconds since the clock started, the phase, the rate, replies and failures so far.
    assertTrue(
        lines.get(0).matches(" +[0-9]+\\.[0-9]s  warmup +[0-9,]+ req/s  [0-9,]+ replies  0 failed"),
        run.err());
    assertTrue(lines.stream().anyMatch(line -> line.contains("s  running ")), run.err());
  }

  @Test
  void idleConnectionsStayOpenBesideTheLoad() throws Exception {
    Run run =
        bench(
            "--port", "" + hashServerPort,
            "--duration", "1s",
            "--warmup", "0s",
            "--connections", "2",
            "--idle-connections", "200");
    JsonNode json = run.json();
    assertEquals(0, run.exitCode(), run.out());
    assertEquals(200, json.get("idle_connections").get("open").asInt());
    assertEquals(0, json.get("idle_connections").get("failed").asInt());
    assertTrue(json.get("ok").asLong() > 0);
  }

  @Test
  void anUnreachableServerIsAFailureWithinTheTimeout() throws Exception {
    int closedPort = TestSockets.unusedPort();
    long start = System.nanoTime();
    Run run =
        bench(
            "--port",
            "" + closedPort,
            "--requests",
            "10",
            "--timeout",
            "1s",
            "--warmup",
            "0s",
            "-c",
            "2");
    JsonNode json = run.json();
    assertEquals(1, run.exitCode(), run.out());
    assertTrue(json.get("connection_errors").asLong() >= 2, run.out());
    assertEquals(0, json.get("ok").asLong());
    assertTrue(json.get("stalled").asBoolean(), run.out());
    assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(15));
  }

  @Test
  void withSeveralProxiesABrokenConnectionFailsOverAndResendsWhatHadNoReply() throws Exception {
    // Every connection to the first proxy is closed after 25 replies with a request unanswered,
    // every one to the second after 200: connections go round the list, several times each.
    try (FakeProxy first = new FakeProxy(25);
        FakeProxy second = new FakeProxy(200)) {
      Run run =
          bench(
              "--proxy", first.address(),
              "--proxy", second.address(),
              "--requests", "2000",
              "--connections", "4",
              "--pipeline", "4",
              "--warmup", "0s",
              "--timeout", "5s");
      JsonNode json = run.json();
      assertEquals(0, run.exitCode(), run.out());
      assertEquals(2000, json.get("requests").asLong(), run.out());
      assertEquals(2000, json.get("ok").asLong(), run.out());
      assertEquals(0, json.get("wrong").asLong(), run.out());
      assertEquals(0, json.get("error_count").asLong(), run.out());
      assertEquals(0, json.get("timeouts").asLong(), run.out());
      assertEquals(0, json.get("lost").asLong(), run.out());
      assertEquals(0, json.get("malformed").asLong(), run.out());
      // One failover per connection a proxy broke, each resending at least the request unanswered.
      long broken = first.broken.get() + second.broken.get();
      assertTrue(first.broken.get() >= 4 && second.broken.get() >= 2, run.out());
      assertEquals(broken, json.get("failovers").asLong(), run.out());
      assertTrue(json.get("resent").asLong() >= broken, run.out());
      assertEquals(List.of(first.address(), second.address()), proxies(json));
      // Half the connections started on each proxy; each broken one reconnected to the other.
      assertEquals(2 + second.broken.get(), first.accepted.get(), run.out());
      assertEquals(2 + first.broken.get(), second.accepted.get(), run.out());
    }
  }

  @Test
  void withSeveralProxiesOneDownFromTheStartIsFailedOverAtOnce() throws Exception {
    int down = TestSockets.unusedPort();
    try (FakeProxy up = new FakeProxy(0)) {
      Run run =
          bench(
              "--proxy", "127.0.0.1:" + down + "," + up.address(),
              "--requests", "500",
              "--connections", "4",
              "--pipeline", "2",
              "--warmup", "0s");
      JsonNode json = run.json();
      assertEquals(0, run.exitCode(), run.out());
      assertEquals(500, json.get("ok").asLong(), run.out());
      assertEquals(0, json.get("lost").asLong(), run.out());
      // Connections 0 and 2 started on the proxy that is down, were refused, and moved on.
      assertEquals(2, json.get("failovers").asLong(), run.out());
      assertEquals(2, json.get("connection_errors").asLong(), run.out());
      assertEquals(0, json.get("resent").asLong(), run.out());
      assertEquals(4, up.accepted.get());
    }
  }

  @Test
  void withOneHostAndPortABrokenConnectionLosesWhatWasInFlight() throws Exception {
    try (FakeProxy breaking = new FakeProxy(25)) {
      Run run =
          bench(
              "--port", breaking.address().substring("127.0.0.1:".length()),
              "--requests", "200",
              "--connections", "2",
              "--pipeline", "4",
              "--warmup", "0s");
      JsonNode json = run.json();
      assertEquals(1, run.exitCode(), run.out());
      assertEquals(200, json.get("requests").asLong(), run.out());
      assertTrue(json.get("lost").asLong() >= breaking.broken.get(), run.out());
      assertEquals(200, json.get("ok").asLong() + json.get("lost").asLong(), run.out());
      assertEquals(0, json.get("failovers").asLong(), run.out());
      assertEquals(0, json.get("resent").asLong(), run.out());
    }
  }

  private static List<String> proxies(JsonNode json) {
    List<String> proxies = new ArrayList<>();
    json.get("proxies").forEach(proxy -> proxies.add(proxy.asText()));
    return proxies;
  }

  @Test
  void everyReplyVerifiesOverTlsWithAClientCertificate() throws Exception {
    String tls = TestCerts.cluster().toString();
    Run pipelined =
        bench(
            "--tls", tls,
            "--port", "" + tlsProxyPort,
            "--requests", "3000",
            "--connections", "4",
            "--pipeline", "16",
            "--warmup", "0s",
            "--idle-connections", "3");
    // Large payloads: each request spans two TLS records.
    Run large =
        bench(
            "--tls", tls,
            "--port", "" + tlsProxyPort,
            "--requests", "200",
            "--connections", "2",
            "--pipeline", "8",
            "--payload-bytes", "30000",
            "--warmup", "0s");
    for (Run run : List.of(pipelined, large)) {
      JsonNode json = run.json();
      assertEquals(0, run.exitCode(), run.out());
      assertTrue(json.get("tls").asBoolean());
      assertEquals(json.get("requests").asLong(), json.get("ok").asLong(), run.out());
      assertEquals(0, json.get("connection_errors").asLong(), run.out());
      assertEquals(0, json.get("malformed").asLong(), run.out());
    }
    assertEquals(3000, pipelined.json().get("ok").asLong());
    assertEquals(3, pipelined.json().get("idle_connections").get("open").asInt());
    assertEquals(200, large.json().get("ok").asLong());
  }

  @Test
  void overTlsABurstOfRepliesLargerThanTheScannerTakesAtOnceIsReadToTheEnd() throws Exception {
    // 256 replies in one write: about 28 KB, decrypted into more than the scanner's 8 KB of room.
    // The server answers only whole bursts, so a reply left behind would stall the run.
    Run run =
        bench(
            "--tls", TestCerts.cluster().toString(),
            "--port", "" + burstingTlsServer(256),
            "--requests", "2560",
            "--connections", "1",
            "--pipeline", "256",
            "--warmup", "0s",
            "--timeout", "3s");
    JsonNode json = run.json();
    assertEquals(0, run.exitCode(), run.out());
    assertEquals(2560, json.get("ok").asLong());
    assertEquals(0, json.get("timeouts").asLong());
  }

  /** A TLS server of the wire protocol that answers requests in bursts, each in one write. */
  private static int burstingTlsServer(int burst) throws Exception {
    TlsDir tls = TlsDir.load(TestCerts.cluster()).requireKey();
    Flow<ByteString, ByteString, ?> flow =
        Flow.of(ByteString.class)
            .via(PacketFraming.flow(65536))
            .map(frame -> (Packet.Request) ((Decoded.Ok) PacketCodec.decodeRequest(frame)).packet())
            .map(
                request ->
                    PacketCodec.encode(
                        new Packet.Reply(
                            "100", request.srcid(), PayloadHash.sha1Hex(request.payload()))))
            .grouped(burst)
            .map(
                replies ->
                    replies.stream().reduce(ByteString.emptyByteString(), ByteString::concat));
    return Tcp.get(testKit.system())
        .bindWithTls(
            "127.0.0.1",
            0,
            () -> tls.serverEngine(false),
            100,
            List.of(),
            Optional.empty(),
            session -> Optional.empty(),
            TLSClosing.eagerClose())
        .to(Sink.foreach(connection -> connection.handleWith(flow, testKit.system())))
        .run(testKit.system())
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS)
        .localAddress()
        .getPort();
  }

  @Test
  void overTlsAServerCertificateOfAnotherCaIsAConnectionErrorAndNothingIsSent() throws Exception {
    Run run =
        bench(
            "--tls", TestCerts.otherCa().toString(),
            "--port", "" + tlsProxyPort,
            "--requests", "10",
            "--timeout", "1s",
            "--warmup", "0s",
            "--connections", "2");
    JsonNode json = run.json();
    assertEquals(1, run.exitCode(), run.out());
    assertTrue(json.get("connection_errors").asLong() >= 2, run.out());
    assertEquals(0, json.get("requests").asLong(), run.out());
    assertTrue(
        json.get("problems")
            .get(0)
            .asText()
            .endsWith("unable to find valid certification path to requested target"),
        run.out());
  }

  @Test
  void badOptionsAreExitStatusTwoWithAMessage() throws Exception {
    assertBadOption(
        bench("--pipeline", "0", "--requests", "1"), "--pipeline must be 1-4096, got 0");
    assertBadOption(
        bench("--duration", "1s", "--requests", "5"), "give --duration or --requests, not both");
    assertBadOption(
        bench("--policies", "111,no way", "--requests", "1"),
        "--policies: \"no way\" is not an id (1-64 characters of A-Z a-z 0-9 . _ -)");
    assertBadOption(
        bench("--duration", "soon"), "--duration: \"soon\" is not a duration (e.g. 500ms, 30s)");
    assertBadOption(
        bench("--proxy", "127.0.0.1", "--requests", "1"),
        "--proxy: \"127.0.0.1\" is not HOST:PORT (a host, a colon, a port 1-65535)");
  }

  private static void assertBadOption(Run run, String error) {
    assertEquals(2, run.exitCode());
    assertEquals(
        "error: " + error + "\ntry 'akka-reverse-proxy bench --help'\n",
        run.err().replace(System.lineSeparator(), "\n"));
  }
}
