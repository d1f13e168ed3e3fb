package revproxy.legacy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.Adapter;
import akka.actor.typed.javadsl.Behaviors;
import java.net.InetSocketAddress;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import revproxy.TestConfigs;
import revproxy.protocol.PayloadHash;
import revproxy.routee.Routee;

/** One {@link LegacyConnection} on its own, with a probe for its parent {@link LegacyBackend}. */
class LegacyConnectionTest {

  static final ActorTestKit testKit = ActorTestKit.create(TestConfigs.local());

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  /** Spawns a connection to {@code port} under a typed parent; {@code parent} gets its messages. */
  private static ActorRef<LegacyConnection.Command> connection(
      int port, TestProbe<LegacyBackend.Internal> parent) {
    TestProbe<ActorRef<LegacyConnection.Command>> spawned = testKit.createTestProbe();
    testKit.spawn(
        Behaviors.setup(
            context -> {
              spawned
                  .getRef()
                  .tell(
                      Adapter.toTyped(
                          Adapter.actorOf(
                              context,
                              LegacyConnection.props(
                                  "840",
                                  "lc",
                                  new InetSocketAddress("127.0.0.1", port),
                                  LegacyBackendTest.SETTINGS,
                                  parent.getRef()),
                              "connection")));
              return Behaviors.empty();
            }));
    return spawned.receiveMessage();
  }

  /**
   * Sends request {@code id} for {@code payload} on {@code connection}; replies go to {@code to}.
   */
  private static void send(
      ActorRef<LegacyConnection.Command> connection,
      long id,
      String payload,
      TestProbe<Routee.Reply> to) {
    connection.tell(
        new LegacyConnection.Send(
            new Routee.Hash(id, "c", payload, to.getRef()), Duration.ofSeconds(3)));
  }

  @Test
  void answersOneRequestAndSaysItIsReadyAgain() throws Exception {
    try (FakeLegacyServer server = new FakeLegacyServer("840", 0, FakeLegacyServer.Mode.ANSWER)) {
      TestProbe<LegacyBackend.Internal> parent = testKit.createTestProbe();
      ActorRef<LegacyConnection.Command> connection = connection(server.port, parent);
      assertEquals(new LegacyBackend.Ready(connection, false), parent.receiveMessage());
      TestProbe<Routee.Reply> replies = testKit.createTestProbe();
      send(connection, 7, "abc", replies);
      assertEquals(
          new Routee.Hashed(7, "840", PayloadHash.sha1Hex("abc")), replies.receiveMessage());
      assertEquals(new LegacyBackend.Ready(connection, true), parent.receiveMessage());
    }
  }

  /**
   * Between telling its parent it is down and the parent's release, a connection refuses what it is
   * sent: the parent may have sent a request to it, as an idle connection, before it took in the
   * news. (A connection that stopped at once lost such a request: no answer, and the client waited
   * out the attempt timeout.)
   */
  @Test
  void refusesWhatItIsSentAfterItEndedUntilItsParentReleasesIt() throws Exception {
    try (FakeLegacyServer server = new FakeLegacyServer("840", 0, FakeLegacyServer.Mode.HANG_UP)) {
      TestProbe<LegacyBackend.Internal> parent = testKit.createTestProbe();
      ActorRef<LegacyConnection.Command> connection = connection(server.port, parent);
      assertEquals(new LegacyBackend.Ready(connection, false), parent.receiveMessage());
      TestProbe<Routee.Reply> replies = testKit.createTestProbe();
      send(connection, 1, "first", replies);
      assertEquals(
          new Routee.Unavailable(1, "840", "closed by the server"), replies.receiveMessage());
      assertEquals(
          new LegacyBackend.ConnectionDown(connection, true, "closed by the server"),
          parent.receiveMessage());

      send(connection, 2, "second", replies);
      assertEquals(
          new Routee.Unavailable(2, "840", "closed by the server"), replies.receiveMessage());

      connection.tell(LegacyConnection.Release.INSTANCE);
      TestProbe<Void> watcher = testKit.createTestProbe();
      watcher.expectTerminated(connection, Duration.ofSeconds(3));
      parent.expectNoMessage(Duration.ofMillis(200));
    }
  }

  @Test
  void aConnectThatFailsIsOneConnectionDownWithTheReason() throws Exception {
    int port = revproxy.TestSockets.unusedPort();
    TestProbe<LegacyBackend.Internal> parent = testKit.createTestProbe();
    ActorRef<LegacyConnection.Command> connection = connection(port, parent);
    LegacyBackend.ConnectionDown down =
        parent.expectMessageClass(LegacyBackend.ConnectionDown.class, Duration.ofSeconds(3));
    assertEquals(connection, down.connection());
    assertEquals(false, down.wasUp());
    assertEquals("Connection refused", down.reason());
    connection.tell(LegacyConnection.Release.INSTANCE);
    testKit.createTestProbe().expectTerminated(connection, Duration.ofSeconds(3));
  }
}
