package revproxy.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.receptionist.Receptionist;
import akka.util.ByteString;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import revproxy.Routees;
import revproxy.TestCerts;
import revproxy.TestConfigs;
import revproxy.TestSockets;
import revproxy.client.ClientSettings;
import revproxy.client.Exchange;
import revproxy.client.PacketFile;
import revproxy.client.ProxyClient;
import revproxy.legacy.LegacyRegistry;
import revproxy.protocol.Decoded;
import revproxy.protocol.Packet;
import revproxy.protocol.PacketCodec;
import revproxy.protocol.PayloadHash;
import revproxy.routee.Routee;
import revproxy.tls.TlsDir;
import revproxy.worker.HashWorker;

/**
 * The client port over TLS, through the real binding: the stream client verifies the proxy's
 * certificate, the proxy may require client certificates, and a client that cannot complete the
 * handshake gets nothing but a clean close.
 */
class ProxyTlsEndToEndTest {

  // INFO, as a proxy logs by default: a plain client must not show up there.
  static final ActorTestKit testKit =
      ActorTestKit.create(
          ConfigFactory.parseString("akka.loglevel = INFO").withFallback(TestConfigs.local()));

  /** Serves policy "guarded" only to see whether a request reached the workers at all. */
  static TestProbe<Routee.Command> guardedWorker;

  static ActorRef<RouterActor.Command> router;
  static ActorRef<LegacyRegistry.Command> legacyServers;
  static InetSocketAddress tlsProxy;
  static InetSocketAddress mutualTlsProxy;

  @BeforeAll
  static void start() throws Exception {
    testKit.spawn(HashWorker.create("100", "111"));
    testKit.spawn(HashWorker.create("200", "222"));
    testKit.spawn(HashWorker.create("300", "111"));
    testKit.spawn(HashWorker.create("400", "222"));
    guardedWorker = testKit.createTestProbe();
    testKit
        .system()
        .receptionist()
        .tell(Receptionist.register(Routee.serviceKey("guarded"), guardedWorker.getRef()));
    Routees.await(testKit, "111", 2);
    Routees.await(testKit, "222", 2);
    Routees.await(testKit, "guarded", 1);
    router = testKit.spawn(RouterActor.create(TestConfigs.proxySettings(Duration.ofSeconds(5))));
    legacyServers = testKit.spawn(LegacyRegistry.create(TestConfigs.legacySettings(), Set.of()));
    tlsProxy = bind(tlsSettings("127.0.0.1", false, 2, Duration.ofSeconds(60)));
    mutualTlsProxy = bind(tlsSettings("127.0.0.1", true, 100, Duration.ofSeconds(60)));
  }

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static ProxySettings tlsSettings(
      String host, boolean requireClientAuth, int maxConnections, Duration idleTimeout) {
    return TestConfigs.withClientTls(
        host, TestCerts.cluster(), requireClientAuth, maxConnections, idleTimeout);
  }

  private static InetSocketAddress bind(ProxySettings settings) throws Exception {
    return ProxyServer.bind(
            testKit.system(), router, legacyServers, settings, TestConfigs.registrationSettings())
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS)
        .localAddress();
  }

  private static ProxyClient client(String host, InetSocketAddress proxy, Path tls) {
    return new ProxyClient(
        testKit.system(),
        new ClientSettings(
            host,
            proxy.getPort(),
            Duration.ofSeconds(20),
            Duration.ofSeconds(5),
            65536,
            Optional.of(TlsDir.load(tls))));
  }

  private static void assertAllCorrect(List<Exchange> exchanges, int count) {
    assertEquals(count, exchanges.size());
    for (Exchange exchange : exchanges) {
      assertEquals(Exchange.Verdict.CORRECT, exchange.verdict(), exchange.sent().name());
    }
  }

  @Test
  void everySamplePacketVerifiesOverTlsForAClientWithoutACertificate() throws Exception {
    List<PacketFile> packets = PacketFile.load(List.of(Path.of("packets")));
    List<Exchange> exchanges =
        client("127.0.0.1", tlsProxy, TestCerts.withoutKey(TestCerts.cluster())).send(packets);
    assertAllCorrect(exchanges, packets.size());
  }

  @Test
  void aClientDialingLocalhostIsServedSinceTheCertificateNamesIt() throws Exception {
    List<PacketFile> packets = PacketFile.load(List.of(Path.of("packets", "0.json")));
    assertAllCorrect(client("localhost", tlsProxy, TestCerts.cluster()).send(packets), 1);
  }

  @Test
  void theClientRefusesAProxyCertificateOfAnotherCa() {
    ProxyClient.ConnectionFailedException refused =
        assertThrows(
            ProxyClient.ConnectionFailedException.class,
            () ->
                client("127.0.0.1", tlsProxy, TestCerts.otherCa())
                    .send(PacketFile.load(List.of(Path.of("packets", "0.json")))));
    assertTrue(
        refused
            .getMessage()
            .endsWith(": unable to find valid certification path to requested target"),
        refused.getMessage());
  }

  @Test
  void theClientRefusesAProxyWhoseCertificateDoesNotNameTheAddressItDials() throws Exception {
    // 127.0.0.2 is this host too, but not in the certificate.
    InetSocketAddress elsewhere = bind(tlsSettings("127.0.0.2", false, 10, Duration.ofSeconds(60)));
    ProxyClient.ConnectionFailedException refused =
        assertThrows(
            ProxyClient.ConnectionFailedException.class,
            () ->
                client("127.0.0.2", elsewhere, TestCerts.cluster())
                    .send(PacketFile.load(List.of(Path.of("packets", "0.json")))));
    assertTrue(
        refused
            .getMessage()
            .endsWith(": No subject alternative names matching IP address 127.0.0.2 found"),
        refused.getMessage());
  }

  private static ByteString guardedRequest(String srcid) {
    return PacketCodec.encode(new Packet.Request(srcid, "guarded", "secret-" + srcid));
  }

  @Test
  void withRequiredClientCertificatesOnlyHoldersOfTheCasCertificateReachAWorker() throws Exception {
    // A holder: its request reaches the worker of "guarded", which answers it.
    ProxyClient holder = client("127.0.0.1", mutualTlsProxy, TestCerts.cluster());
    Thread answer =
        new Thread(
            () -> {
              Routee.Hash hash = (Routee.Hash) guardedWorker.receiveMessage(Duration.ofSeconds(10));
              hash.replyTo()
                  .tell(
                      new Routee.Hashed(
                          hash.requestId(), "guard", PayloadHash.sha1Hex(hash.payload())));
            });
    answer.start();
    List<Decoded> replies =
        holder.exchange(List.of(guardedRequest("holder")), Duration.ofSeconds(10));
    answer.join(10_000);
    assertEquals(
        List.of(
            new Decoded.Ok(
                new Packet.Reply("guard", "holder", PayloadHash.sha1Hex("secret-holder")))),
        replies);
    List<PacketFile> packets = PacketFile.load(List.of(Path.of("packets")));
    assertAllCorrect(holder.send(packets), packets.size());

    // No certificate, or one of another CA: refused during the handshake, no reply, and the
    // request never reaches a worker.
    for (Path refused :
        List.of(
            TestCerts.withoutKey(TestCerts.cluster()),
            TestCerts.trustingWithKeyOf(TestCerts.cluster(), TestCerts.otherCa()))) {
      ProxyClient stranger = client("127.0.0.1", mutualTlsProxy, refused);
      ProxyClient.ConnectionFailedException failure =
          assertThrows(
              ProxyClient.ConnectionFailedException.class,
              () -> stranger.exchange(List.of(guardedRequest("stranger")), Duration.ofSeconds(5)),
              refused.toString());
      assertTrue(
          failure.getMessage().endsWith(": Received fatal alert: bad_certificate"),
          failure.getMessage());
    }
    guardedWorker.expectNoMessage(Duration.ofMillis(500));
  }

  @Test
  void aClientWhoseCertificateAndFirstRequestArriveTogetherIsAnsweredAtOnce() throws Exception {
    // Akka 2.6's TLS stage used to keep such a request back until more bytes came (about one
    // connection in three here): the client waited for ever (TlsStageEngine works around it).
    for (int i = 0; i < 20; i++) {
      List<Decoded> replies =
          client("127.0.0.1", mutualTlsProxy, TestCerts.cluster())
              .exchange(
                  List.of(PacketCodec.encode(new Packet.Request("first-" + i, "111", "at once"))),
                  Duration.ofSeconds(3));
      assertEquals(1, replies.size(), "connection " + i);
      assertEquals(
          PayloadHash.sha1Hex("at once"),
          ((Packet.Reply) ((Decoded.Ok) replies.get(0)).packet()).payloadHash());
    }
  }

  @Test
  void aPlainTcpClientOnTheTlsPortGetsACleanCloseAndTheProxyServesTlsClientsAfter()
      throws Exception {
    // Everything from INFO up while the plain clients come and go (the console shows it too).
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    Level rootLevel = root.getLevel();
    logged.start();
    root.addAppender(logged);
    root.setLevel(Level.INFO);
    try {
      // More of them than the proxy admits connections at once (2): each must be counted out.
      for (int i = 0; i < 5; i++) {
        try (Socket plain = TestSockets.connect(tlsProxy)) {
          plain
              .getOutputStream()
              .write(TestSockets.request("p" + i, "111", "plain").getBytes(StandardCharsets.UTF_8));
          InputStream in = plain.getInputStream();
          assertEquals(-1, in.read(), "a clean end of stream, no reply and no reset");
        }
      }
      Thread.sleep(300); // Akka's log events are delivered asynchronously
    } finally {
      root.setLevel(rootLevel);
      root.detachAppender(logged);
    }
    synchronized (logged) {
      assertEquals(List.of(), List.copyOf(logged.list), "nothing logged above DEBUG");
    }
    List<PacketFile> packets = PacketFile.load(List.of(Path.of("packets")));
    ProxyClient tls = client("127.0.0.1", tlsProxy, TestCerts.cluster());
    TestProbe<Void> probe = testKit.createTestProbe();
    // The plain connections' slots are freed as their streams stop, a moment after the close.
    probe.awaitAssert(
        Duration.ofSeconds(5),
        () -> {
          assertAllCorrect(tls.send(packets), packets.size());
          return null;
        });
  }

  @Test
  void anIdleTlsConnectionIsClosedWithACloseNotifyAtTheIdleTimeout() throws Exception {
    InetSocketAddress proxy = bind(tlsSettings("127.0.0.1", false, 10, Duration.ofMillis(400)));
    try (SSLSocket idle = tlsSocket(proxy, "TLSv1.3")) {
      idle.getOutputStream()
          .write(TestSockets.request("i", "111", "idle").getBytes(StandardCharsets.UTF_8));
      assertTrue(flatObject(idle.getInputStream()).startsWith("{\"type\": \"2\""));
      long start = System.nanoTime();
      // A TLS end of stream: the proxy's close_notify, before the connection's 800 ms backstop.
      assertEquals(-1, idle.getInputStream().read());
      assertTrue(System.nanoTime() - start < TimeUnit.MILLISECONDS.toNanos(800));
    }
  }

  /** The next JSON object without nested objects (a reply), read up to its closing brace. */
  private static String flatObject(InputStream in) throws IOException {
    StringBuilder object = new StringBuilder();
    int c;
    while ((c = in.read()) != '}') {
      assertTrue(c >= 0, "closed within the reply " + object);
      object.append((char) c);
    }
    return object.append('}').toString();
  }

  private static SSLSocket tlsSocket(InetSocketAddress proxy, String protocol) throws IOException {
    SSLSocket socket =
        (SSLSocket)
            TestCerts.sslContext(TestCerts.cluster())
                .getSocketFactory()
                .createSocket(proxy.getAddress(), proxy.getPort());
    socket.setSoTimeout(10_000);
    socket.setEnabledProtocols(new String[] {protocol});
    return socket;
  }

  @Test
  void theClientPortSpeaksTls13And12() throws IOException {
    for (String protocol : List.of("TLSv1.3", "TLSv1.2")) {
      try (SSLSocket socket = tlsSocket(mutualTlsProxy, protocol)) {
        socket
            .getOutputStream()
            .write(TestSockets.request("v", "111", protocol).getBytes(StandardCharsets.UTF_8));
        assertEquals(protocol, socket.getSession().getProtocol());
        String reply = flatObject(socket.getInputStream());
        assertTrue(reply.startsWith("{\"type\": \"2\""), reply);
      }
    }
  }
}
