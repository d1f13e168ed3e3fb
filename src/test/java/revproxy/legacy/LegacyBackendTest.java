package revproxy.legacy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import com.typesafe.config.ConfigFactory;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import revproxy.LogCapture;
import revproxy.Routees;
import revproxy.TestConfigs;
import revproxy.TestSockets;
import revproxy.cluster.NodeConfig;
import revproxy.protocol.Packet;
import revproxy.protocol.PayloadHash;
import revproxy.routee.Routee;

class LegacyBackendTest {

  static final ActorTestKit testKit = ActorTestKit.create(TestConfigs.local());

  static final com.typesafe.config.Config SETTINGS_CONFIG =
      ConfigFactory.parseString(
              "revproxy.legacy {\n"
                  + "  connections-per-backend = 1\n"
                  + "  max-connections-per-backend = 3\n"
                  + "  connect-timeout = 500ms\n"
                  + "  reply-timeout = 300ms\n"
                  + "  reconnect-min-backoff = 50ms\n"
                  + "  reconnect-max-backoff = 200ms\n"
                  + "  max-queued-per-backend = 16\n"
                  + "  registration.takeover-after = 300ms\n"
                  + "}")
          .withFallback(NodeConfig.defaults());

  static final LegacySettings SETTINGS = LegacySettings.fromConfig(SETTINGS_CONFIG);

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static ActorRef<Routee.Command> backend(String id, String policy, int port) {
    return backend(id, policy, port, 1);
  }

  private static ActorRef<Routee.Command> backend(
      String id, String policy, int port, int connections) {
    return testKit.spawn(
        LegacyBackend.create(
            new Packet.Registration(id, policy, port),
            "127.0.0.1",
            connections,
            false,
            SETTINGS,
            testKit.system().ignoreRef()));
  }

  /** Settings whose servers that announce nothing get a pool that learns, up to 4. */
  static final LegacySettings AUTO =
      LegacySettings.fromConfig(
          ConfigFactory.parseString(
                  "revproxy.legacy {\n"
                      + "  connections-per-backend = auto\n"
                      + "  max-connections-per-backend = 4\n"
                      + "  max-queued-per-backend = 64\n"
                      + "  probe-timeout = 200ms\n"
                      + "  reply-timeout = 2s\n"
                      + "}")
              .withFallback(SETTINGS_CONFIG));

  private static ActorRef<Routee.Command> adaptiveBackend(String id, String policy, int port) {
    return testKit.spawn(
        LegacyBackend.create(
            new Packet.Registration(id, policy, port),
            "127.0.0.1",
            4,
            true,
            AUTO,
            testKit.system().ignoreRef()));
  }

  /** Sends {@code count} requests at once; returns the replies, by request id. */
  private static java.util.Map<Long, Routee.Reply> burst(
      ActorRef<Routee.Command> backend, int count) {
    TestProbe<Routee.Reply> probe = testKit.createTestProbe();
    for (int i = 0; i < count; i++) {
      backend.tell(new Routee.Hash(i, "c" + i, "p" + i, probe.getRef()));
    }
    java.util.Map<Long, Routee.Reply> replies = new java.util.TreeMap<>();
    for (Routee.Reply reply : probe.receiveSeveralMessages(count, Duration.ofSeconds(10))) {
      replies.put(((Routee.Answer) reply).requestId(), reply);
    }
    return replies;
  }

  @Test
  void aPoolForAServerThatServesManyConnectionsGrowsWhileRequestsQueue() throws Exception {
    try (FakeLegacyServer server =
        new FakeLegacyServer("810", 0, FakeLegacyServer.Mode.ANSWER, true)) {
      ActorRef<Routee.Command> backend = adaptiveBackend("810", "lb-grow", server.port);
      Routees.await(testKit, "lb-grow", 1);
      assertEquals(1, server.connections.get(), "one connection to start with");
      for (int round = 0; round < 10 && server.connections.get() < 4; round++) {
        for (Routee.Reply reply : burst(backend, 40).values()) {
          assertEquals(Routee.Hashed.class, reply.getClass(), reply.toString());
        }
      }
      assertEquals(4, server.connections.get(), "grown to max-connections-per-backend");
    }
  }

  @Test
  void aPoolForAServerThatServesOneConnectionAtATimeStaysAtOneAfterOneProbe() throws Exception {
    // Like server.py: a second connection waits in the backlog until the first closes. Its
    // replies take 5 ms, so that the burst's requests wait for the connection and the pool tries
    // to grow: answered at once, each request could come back before the test thread sends the
    // next (a CI run of the FIFO thread pool: all 20 served on one connection, no probe).
    try (FakeLegacyServer server =
        new FakeLegacyServer("820", 0, FakeLegacyServer.Mode.SLOW_ANSWER)) {
      ActorRef<Routee.Command> backend = adaptiveBackend("820", "lb-one-at-a-time", server.port);
      Routees.await(testKit, "lb-one-at-a-time", 1);
      java.util.Map<Long, Routee.Reply> first = burst(backend, 20);
      long refused =
          first.values().stream().filter(reply -> reply instanceof Routee.Unavailable).count();
      assertEquals(1, refused, "the probe's request goes back to the router: " + first);
      Routee.Unavailable probe =
          (Routee.Unavailable)
              first.values().stream()
                  .filter(r -> r instanceof Routee.Unavailable)
                  .findFirst()
                  .get();
      assertEquals("no reply within 200 ms", probe.reason());
      // The pool keeps its size for probe-backoff: no second probe, every request served.
      for (Routee.Reply reply : burst(backend, 20).values()) {
        assertEquals(Routee.Hashed.class, reply.getClass(), reply.toString());
      }
    }
  }

  private static Routee.Reply hash(ActorRef<Routee.Command> backend, String payload) {
    TestProbe<Routee.Reply> probe = testKit.createTestProbe();
    backend.tell(new Routee.Hash(0, "c", payload, probe.getRef()));
    return probe.receiveMessage(Duration.ofSeconds(3));
  }

  @Test
  void joinsTheRotationOnlyOnceItsServerListensAsTheOriginalRegistersFirst() throws Exception {
    int port = TestSockets.unusedPort();
    ActorRef<Routee.Command> backend = backend("100", "lb-late", port);
    // Nobody listens yet: the backend is not a routee, and says so if asked anyway.
    Routees.await(testKit, "lb-late", 0);
    assertEquals(Routee.Unavailable.class, hash(backend, "early").getClass(), "not connected yet");
    // Let it fail to connect many times over (backoff 50-200 ms), as while server.py starts up.
    Thread.sleep(1500);

    try (FakeLegacyServer server =
        new FakeLegacyServer("100", port, FakeLegacyServer.Mode.ANSWER)) {
      Routees.await(testKit, "lb-late", 1);
      assertEquals(new Routee.Hashed(0, "100", PayloadHash.sha1Hex("xyz1")), hash(backend, "xyz1"));
      assertEquals(1, server.connections.get());
    }
  }

  @Test
  void keepsOnePersistentConnectionWithOneRequestInFlight() throws Exception {
    try (FakeLegacyServer server = new FakeLegacyServer("200", 0, FakeLegacyServer.Mode.ANSWER)) {
      ActorRef<Routee.Command> backend = backend("200", "lb-one", server.port);
      Routees.await(testKit, "lb-one", 1);
      TestProbe<Routee.Reply> probe = testKit.createTestProbe();
      // One in flight plus max-queued-per-backend (16) waiting: all accepted, none dropped.
      for (int i = 0; i < 17; i++) {
        backend.tell(new Routee.Hash(i, "c" + i, "p" + i, probe.getRef()));
      }
      for (int i = 0; i < 17; i++) {
        assertEquals(
            new Routee.Hashed(i, "200", PayloadHash.sha1Hex("p" + i)), probe.receiveMessage());
      }
      // The original server breaks when two messages arrive in one read: each read held one.
      assertEquals(17, server.reads.size());
      for (int i = 0; i < 17; i++) {
        assertEquals(
            "{\"type\": \"0\", \"srcid\": \"c"
                + i
                + "\", \"privPoliId\": \"lb-one\", \"payload\": \"p"
                + i
                + "\"}",
            server.reads.get(i));
      }
      assertEquals(1, server.connections.get());
    }
  }

  @Test
  void requestsBeyondTheQueueAreHandedBackAtOnce() throws Exception {
    try (FakeLegacyServer stuck = new FakeLegacyServer("210", 0, FakeLegacyServer.Mode.IGNORE)) {
      ActorRef<Routee.Command> backend = backend("210", "lb-busy", stuck.port);
      Routees.await(testKit, "lb-busy", 1);
      TestProbe<Routee.Reply> probe = testKit.createTestProbe();
      // One in flight (never answered) and 16 queued; the 18th cannot wait.
      for (int i = 0; i < 18; i++) {
        backend.tell(new Routee.Hash(i, "c" + i, "p" + i, probe.getRef()));
      }
      assertEquals(
          new Routee.Unavailable(17, "210", "busy: too many queued requests"),
          probe.receiveMessage());
    }
  }

  /** A server of several connections that stops is one line, not one per connection. */
  @Test
  void aServerThatStopsIsOneLogLineNotOnePerConnection() throws Exception {
    try (LogCapture log = new LogCapture(LegacyBackend.class.getName())) {
      try (FakeLegacyServer server =
          new FakeLegacyServer("220", 0, FakeLegacyServer.Mode.ANSWER, true)) {
        backend("220", "lb-logs", server.port, 3);
        Routees.await(testKit, "lb-logs", 1);
        TestProbe<Void> probe = testKit.createTestProbe();
        probe.awaitAssert(
            () -> {
              assertEquals(3, server.connections.get());
              return null;
            });
      }
      Routees.await(testKit, "lb-logs", 0);
      assertEquals(
          List.of(
              "INFO Legacy server 220 joins the rotation of policy lb-logs",
              "INFO Legacy server 220 leaves the rotation of policy lb-logs: closed by the server"),
          log.lines().stream().filter(line -> line.contains("lb-logs")).toList());
    }
  }

  @Test
  void serverThatHangsUpReturnsTheRequestLeavesTheRotationAndRejoinsWhenBack() throws Exception {
    int port;
    ActorRef<Routee.Command> backend;
    // The server comes back on the same port: one no outgoing connection can take meanwhile.
    try (FakeLegacyServer dying =
        new FakeLegacyServer("300", TestSockets.unusedPort(), FakeLegacyServer.Mode.HANG_UP)) {
      port = dying.port;
      backend = backend("300", "lb-dies", port);
      Routees.await(testKit, "lb-dies", 1);
      Routee.Reply reply = hash(backend, "lost?");
      assertTrue(reply instanceof Routee.Unavailable, reply.toString());
    }
    Routees.await(testKit, "lb-dies", 0);

    try (FakeLegacyServer back = new FakeLegacyServer("300", port, FakeLegacyServer.Mode.ANSWER)) {
      Routees.await(testKit, "lb-dies", 1);
      assertEquals(
          new Routee.Hashed(0, "300", PayloadHash.sha1Hex("again")), hash(backend, "again"));
    }
  }

  /**
   * A legacy server's answer that is no type "2" reply is refused to the router with one reason,
   * whether it is a well-formed type "3" or does not decode at all; the connection stays in use.
   */
  @Test
  void anAnswerThatIsNoReplyIsRefusedWhetherItDecodesOrNot() throws Exception {
    assertRefusedOnOneConnection(
        "lb-error",
        "{\"type\": \"3\", \"destid\": \"c\", \"code\": \"timeout\", \"message\": \"x\"}");
    assertRefusedOnOneConnection(
        "lb-unreadable", "{\"type\": \"2\", \"srcid\": \"800\", \"payload\": \"no destid\"}");
  }

  private static void assertRefusedOnOneConnection(String policy, String answer) throws Exception {
    try (FakeLegacyServer odd = new FakeLegacyServer("800", answer)) {
      ActorRef<Routee.Command> backend = backend("800", policy, odd.port);
      Routees.await(testKit, policy, 1);
      Routee.Unavailable refused =
          new Routee.Unavailable(0, "800", "the server did not answer with a type \"2\" reply");
      assertEquals(refused, hash(backend, "first"));
      assertEquals(refused, hash(backend, "second"));
      assertEquals(1, odd.connections.get());
      testKit.stop(backend);
    }
  }

  /**
   * A reply over {@code max-reply-bytes} ends its connection at once: the request is refused with
   * that reason, and the next one goes out on a new connection instead of waiting out {@code
   * reply-timeout} on one whose framing has given up.
   */
  @Test
  void aReplyOverTheLimitEndsItsConnectionAtOnce() throws Exception {
    LegacySettings small =
        LegacySettings.fromConfig(
            ConfigFactory.parseString("revproxy.legacy.max-reply-bytes = 100")
                .withFallback(SETTINGS_CONFIG));
    String tooLarge =
        "{\"type\": \"2\", \"srcid\": \"810\", \"destid\": \"c\", \"payload\": \""
            + "a".repeat(100)
            + "\"}";
    try (FakeLegacyServer large = new FakeLegacyServer("810", tooLarge)) {
      ActorRef<Routee.Command> backend =
          testKit.spawn(
              LegacyBackend.create(
                  new Packet.Registration("810", "lb-large", large.port),
                  "127.0.0.1",
                  1,
                  false,
                  small,
                  testKit.system().ignoreRef()));
      Routees.await(testKit, "lb-large", 1);
      assertEquals(
          new Routee.Unavailable(0, "810", "the server's reply was over 100 bytes"),
          hash(backend, "first"));
      TestProbe<Void> waiter = testKit.createTestProbe();
      waiter.awaitAssert(
          Duration.ofSeconds(2),
          () -> {
            assertEquals(2, large.connections.get());
            return null;
          });
      Routees.await(testKit, "lb-large", 1);
      assertEquals(
          new Routee.Unavailable(0, "810", "the server's reply was over 100 bytes"),
          hash(backend, "second"));
      testKit.stop(backend);
    }
  }

  /**
   * Two replies to one request: the first answers it, the second is data nobody asked for, which
   * could be taken for the next request's reply, so the connection is replaced.
   */
  @Test
  void aSecondReplyToOneRequestEndsTheConnection() throws Exception {
    String twice =
        "{\"type\": \"2\", \"srcid\": \"820\", \"destid\": \"c\", \"payload\": \"one\"}"
            + "{\"type\": \"2\", \"srcid\": \"820\", \"destid\": \"c\", \"payload\": \"two\"}";
    try (FakeLegacyServer chatty = new FakeLegacyServer("820", twice)) {
      ActorRef<Routee.Command> backend = backend("820", "lb-twice", chatty.port);
      Routees.await(testKit, "lb-twice", 1);
      TestProbe<Routee.Reply> replies = testKit.createTestProbe();
      backend.tell(new Routee.Hash(0, "c", "first", replies.getRef()));
      assertEquals(
          new Routee.Hashed(0, "820", "one"), replies.receiveMessage(Duration.ofSeconds(3)));
      // The second reply answers nothing: the request has its one answer.
      replies.expectNoMessage(Duration.ofMillis(300));
      TestProbe<Void> waiter = testKit.createTestProbe();
      waiter.awaitAssert(
          Duration.ofSeconds(2),
          () -> {
            assertEquals(2, chatty.connections.get());
            return null;
          });
      testKit.stop(backend);
    }
  }

  @Test
  void serverThatNeverAnswersTimesOutAndTheConnectionIsReplaced() throws Exception {
    try (FakeLegacyServer mute = new FakeLegacyServer("400", 0, FakeLegacyServer.Mode.IGNORE)) {
      ActorRef<Routee.Command> backend = backend("400", "lb-mute", mute.port);
      Routees.await(testKit, "lb-mute", 1);
      assertEquals(
          new Routee.Unavailable(0, "400", "no reply within 300 ms"), hash(backend, "silence"));
      // A late reply could be taken for the next request's: the connection is closed and reopened.
      TestProbe<Void> waiter = testKit.createTestProbe();
      waiter.awaitAssert(
          Duration.ofSeconds(3),
          () -> {
            assertEquals(2, mute.connections.get());
            return null;
          });
    }
  }

  @Test
  void aServerThatLeavesItsFirstRequestUnansweredPastTheProbeTimeoutGetsNoOtherUntilANewConnection()
      throws Exception {
    try (FakeLegacyServer mute = new FakeLegacyServer("410", 0, FakeLegacyServer.Mode.IGNORE)) {
      ActorRef<Routee.Command> backend = backend("410", "lb-unproven", mute.port);
      Routees.await(testKit, "lb-unproven", 1);
      TestProbe<Routee.Reply> probe = testKit.createTestProbe();
      backend.tell(new Routee.Hash(0, "c0", "p0", probe.getRef()));
      backend.tell(new Routee.Hash(1, "c1", "p1", probe.getRef()));
      // It never answered and its first request is older than probe-timeout (200 ms): what
      // waits, and what comes, goes back to the router at once instead of waiting behind it.
      Thread.sleep(250);
      backend.tell(new Routee.Hash(2, "c2", "p2", probe.getRef()));
      String unproven = "no answer yet: its first request has waited more than 200 ms";
      assertEquals(new Routee.Unavailable(1, "410", unproven), probe.receiveMessage());
      assertEquals(new Routee.Unavailable(2, "410", unproven), probe.receiveMessage());
      assertEquals(
          new Routee.Unavailable(0, "410", "no reply within 300 ms"), probe.receiveMessage());
      assertEquals(1, mute.reads.size(), "only the first request reached it");
      // A new connection is a new chance: its first request goes to the server again.
      TestProbe<Void> waiter = testKit.createTestProbe();
      waiter.awaitAssert(
          Duration.ofSeconds(3),
          () -> {
            assertEquals(2, mute.connections.get());
            return null;
          });
      Routees.await(testKit, "lb-unproven", 1);
      backend.tell(new Routee.Hash(3, "c3", "p3", probe.getRef()));
      waiter.awaitAssert(
          Duration.ofSeconds(3),
          () -> {
            assertEquals(2, mute.reads.size());
            return null;
          });
    }
  }

  /** Registers {@code registration} as if it came from 127.0.0.1 and returns the answer. */
  private static LegacyRegistry.Result register(
      ActorRef<LegacyRegistry.Command> registry, Packet.Registration registration) {
    TestProbe<LegacyRegistry.Result> probe = testKit.createTestProbe();
    registry.tell(
        new LegacyRegistry.Register(
            registration, InetAddress.getLoopbackAddress(), 2100, probe.getRef()));
    return probe.receiveMessage(Duration.ofSeconds(3));
  }

  /** Registrations come from clients: a flood of them is at most 20 lines a minute. */
  @Test
  void acceptedRegistrationsAreLoggedAtMostTwentyAMinute() {
    ActorRef<LegacyRegistry.Command> registry =
        testKit.spawn(LegacyRegistry.create(SETTINGS, Set.of()));
    try (LogCapture log = new LogCapture(LegacyRegistry.class.getName())) {
      for (int i = 0; i < 30; i++) {
        assertEquals(
            LegacyRegistry.Accepted.INSTANCE,
            register(registry, new Packet.Registration("r" + i, "lb-flood", 40000 + i)));
      }
      List<String> lines = log.lines().stream().filter(line -> line.contains("lb-flood")).toList();
      assertEquals(20, lines.size(), lines.toString());
      assertEquals(
          "INFO Legacy server r0 for policy lb-flood registered at 127.0.0.1:40000 (1 connection(s))",
          lines.get(0));
    }
  }

  /** A server whose pool learns its size says so, not the most it may grow to as a count. */
  @Test
  void anAutoServerIsLoggedWithItsPoolRange() {
    ActorRef<LegacyRegistry.Command> registry =
        testKit.spawn(LegacyRegistry.create(AUTO, Set.of()));
    try (LogCapture log = new LogCapture(LegacyRegistry.class.getName())) {
      assertEquals(
          LegacyRegistry.Accepted.INSTANCE,
          register(registry, new Packet.Registration("a0", "lb-auto-log", 40100)));
      assertEquals(
          List.of(
              "INFO Legacy server a0 for policy lb-auto-log registered at 127.0.0.1:40100"
                  + " (connections: auto, from 1 up to 4)"),
          log.lines().stream().filter(line -> line.contains("lb-auto-log")).toList());
    }
  }

  @Test
  void aServerThatAnnouncesConnectionsGetsThatManyUpToTheCap() throws Exception {
    ActorRef<LegacyRegistry.Command> registry =
        testKit.spawn(LegacyRegistry.create(SETTINGS, Set.of()));
    try (FakeLegacyServer server =
        new FakeLegacyServer("700", 0, FakeLegacyServer.Mode.ANSWER, true)) {
      // It asks for 8; the cap in these settings is 3.
      assertEquals(
          LegacyRegistry.Accepted.INSTANCE,
          register(registry, new Packet.Registration("700", "lb-many", server.port, 8)));
      Routees.await(testKit, "lb-many", 1);
      TestProbe<Void> waiter = testKit.createTestProbe();
      waiter.awaitAssert(
          Duration.ofSeconds(3),
          () -> {
            assertEquals(3, server.connections.get());
            return null;
          });
    }
  }

  @Test
  void reRegistrationAtANewAddressReplacesABackendThatIsUnreachable() throws Exception {
    ActorRef<LegacyRegistry.Command> registry =
        testKit.spawn(LegacyRegistry.create(SETTINGS, Set.of()));
    int deadPort = TestSockets.unusedPort();
    assertEquals(
        LegacyRegistry.Accepted.INSTANCE,
        register(registry, new Packet.Registration("600", "lb-reg", deadPort)));
    // Past takeover-after (300 ms) without a connection, another port may take the id over.
    Thread.sleep(500);
    try (FakeLegacyServer server = new FakeLegacyServer("600", 0, FakeLegacyServer.Mode.ANSWER)) {
      Packet.Registration moved = new Packet.Registration("600", "lb-reg", server.port);
      assertEquals(LegacyRegistry.Accepted.INSTANCE, register(registry, moved));
      Routees.await(testKit, "lb-reg", 1);
      // The same registration again changes nothing: still one routee, one connection.
      assertEquals(LegacyRegistry.Accepted.INSTANCE, register(registry, moved));
      Routees.await(testKit, "lb-reg", 1);
      assertEquals(1, server.connections.get());
    }
  }
}
