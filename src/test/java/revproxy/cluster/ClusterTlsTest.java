package revproxy.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.Address;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorRefResolver;
import akka.cluster.Member;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import revproxy.Routees;
import revproxy.TestCerts;
import revproxy.TestConfigs;
import revproxy.tls.ClusterTlsEngineProvider;
import revproxy.worker.HashWorker;

/**
 * Mutual TLS between nodes, four nodes in one JVM that all try to join the proxy node: a worker
 * node with a certificate of the cluster's CA gets in; one with plain TCP, and one with a
 * certificate of another CA, never become members and never get a message, though each runs a
 * worker that would serve the proxy's policy.
 */
class ClusterTlsTest {

  /** How long the intruders keep trying in each test, after the good node took its time to join. */
  private static final Duration BOUNDED_WAIT = Duration.ofSeconds(8);

  static final ListAppender<ILoggingEvent> tlsLog = new ListAppender<>();
  static final Logger tlsLogger = (Logger) LoggerFactory.getLogger(ClusterTlsEngineProvider.class);
  static ActorTestKit proxyNode;
  static ActorTestKit goodNode;
  static ActorTestKit plainNode;
  static ActorTestKit strangerNode;

  @BeforeAll
  static void start() {
    // Every line, repeats (DEBUG) too, and none on the console.
    tlsLogger.setLevel(Level.DEBUG);
    tlsLogger.setAdditive(false);
    tlsLog.start();
    tlsLogger.addAppender(tlsLog);

    proxyNode = node(TestConfigs.clusterNode("proxy", TestCerts.cluster()));
    goodNode = node(TestConfigs.clusterNode("worker", TestCerts.cluster()));
    plainNode = node(TestConfigs.clusterNode("worker"));
    strangerNode = node(TestConfigs.clusterNode("worker", TestCerts.otherCa()));
    Address seed = address(proxyNode);
    for (ActorTestKit node : List.of(proxyNode, goodNode, plainNode, strangerNode)) {
      Cluster.get(node.system()).manager().tell(Join.create(seed));
    }
    goodNode.spawn(HashWorker.create("100", "111"), "worker-100");
    plainNode.spawn(HashWorker.create("200", "111"), "worker-200");
    strangerNode.spawn(HashWorker.create("300", "111"), "worker-300");
    TestProbe<Void> probe = proxyNode.createTestProbe();
    probe.awaitAssert(
        Duration.ofSeconds(20),
        () -> {
          assertEquals(MemberStatus.up(), Cluster.get(goodNode.system()).selfMember().status());
          return null;
        });
    Routees.await(proxyNode, "111", 1);
  }

  @AfterAll
  static void shutdown() {
    // Bounded, as a node's own exit is (revproxy.node.Termination): over TLS, Akka 2.6's Artery
    // can wait without a deadline for a stream to a peer that stays up, here the nodes refused at
    // the handshake, which keep trying. A system still up after 10 s is left to the JVM's exit
    // instead of failing the class after its tests have passed.
    for (ActorTestKit node : List.of(strangerNode, plainNode, goodNode, proxyNode)) {
      ActorTestKit.shutdown(node.system(), Duration.ofSeconds(10), false);
    }
    tlsLogger.detachAppender(tlsLog);
    tlsLogger.setAdditive(true);
    tlsLogger.setLevel(null);
  }

  private static ActorTestKit node(com.typesafe.config.Config config) {
    return ActorTestKit.create(NodeConfig.SYSTEM_NAME, config);
  }

  private static Address address(ActorTestKit node) {
    return Cluster.get(node.system()).selfMember().address();
  }

  private static Set<Address> membersSeenByTheProxy() {
    Set<Address> members = new TreeSet<>(Address.addressOrdering());
    for (Member member : Cluster.get(proxyNode.system()).state().getMembers()) {
      members.add(member.address());
    }
    return members;
  }

  /** The proxy node's reference to a probe on {@code node}, from the probe's path. */
  private static ActorRef<String> resolvedOnTheProxy(ActorTestKit node, TestProbe<String> probe) {
    String path = ActorRefResolver.get(node.system()).toSerializationFormat(probe.getRef());
    return ActorRefResolver.get(proxyNode.system()).resolveActorRef(path);
  }

  @Test
  void onlyTheNodeWithACertificateOfTheClustersCaJoinsAndGetsMessages() throws Exception {
    TestProbe<String> good = goodNode.createTestProbe();
    TestProbe<String> plain = plainNode.createTestProbe();
    TestProbe<String> stranger = strangerNode.createTestProbe();
    resolvedOnTheProxy(goodNode, good).tell("from the proxy");
    resolvedOnTheProxy(plainNode, plain).tell("from the proxy");
    resolvedOnTheProxy(strangerNode, stranger).tell("from the proxy");
    good.expectMessage("from the proxy");

    long deadline = System.nanoTime() + BOUNDED_WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      assertEquals(Set.of(address(proxyNode), address(goodNode)), membersSeenByTheProxy());
      assertNotEquals(MemberStatus.up(), Cluster.get(plainNode.system()).selfMember().status());
      assertNotEquals(MemberStatus.up(), Cluster.get(strangerNode.system()).selfMember().status());
      Thread.sleep(500);
    }
    // Only worker 100 ever serves the proxy's policy: the others never reached its receptionist.
    Routees.await(proxyNode, "111", 1);
    plain.expectNoMessage(Duration.ofMillis(200));
    stranger.expectNoMessage(Duration.ofMillis(200));
  }

  @Test
  void eachRefusalIsOneClearLineThoughTheNodesKeepTrying() throws Exception {
    String proxy = "Cluster node " + address(proxyNode) + " ";
    String refusedPlain =
        proxy + "refused a connection: the peer does not speak TLS (a node without --cluster-tls?)";
    String refusedStranger =
        proxy
            + "refused a connection: the peer does not accept this node's certificate (a node of"
            + " another CA?)";
    String strangerCannotConnect =
        "Cluster node "
            + address(strangerNode)
            + " cannot connect to 127.0.0.1:"
            + address(proxyNode).getPort().get()
            + ": the peer's certificate is not signed by this node's CA";
    TestProbe<Void> probe = proxyNode.createTestProbe();
    // The plain node retries: its refusals are counted, but logged as a WARN line only once.
    probe.awaitAssert(
        Duration.ofSeconds(30),
        () -> {
          assertTrue(eventsStartingWith(refusedPlain).size() >= 3, "refusals: " + lines());
          return null;
        });
    for (String line : List.of(refusedPlain, refusedStranger, strangerCannotConnect)) {
      List<ILoggingEvent> events = eventsStartingWith(line);
      assertEquals(Level.WARN, events.get(0).getLevel(), line + " in " + lines());
      assertEquals(
          1,
          events.stream().filter(event -> event.getLevel() == Level.WARN).count(),
          line + " in " + lines());
      assertTrue(
          events
              .get(0)
              .getFormattedMessage()
              .endsWith("; the same failure is logged at DEBUG for the next 10 minutes"),
          events.get(0).getFormattedMessage());
    }
  }

  /** The events whose message is {@code line} followed by the JDK's own message in brackets. */
  private static List<ILoggingEvent> eventsStartingWith(String line) {
    List<ILoggingEvent> events = new ArrayList<>();
    for (ILoggingEvent event : logged()) {
      if (event.getFormattedMessage().startsWith(line + " (")) {
        events.add(event);
      }
    }
    return events;
  }

  private static Map<String, Integer> lines() {
    Map<String, Integer> counts = new TreeMap<>();
    for (ILoggingEvent event : logged()) {
      counts.merge(event.getLevel() + " " + event.getFormattedMessage(), 1, Integer::sum);
    }
    return counts;
  }

  private static List<ILoggingEvent> logged() {
    // Logback appends under the appender's lock.
    synchronized (tlsLog) {
      return List.copyOf(tlsLog.list);
    }
  }

  @Test
  void theClusterPortSpeaksOnlyTls13() throws IOException {
    int port = address(proxyNode).getPort().get();
    try (SSLSocket tls13 = socket(port, "TLSv1.3")) {
      tls13.startHandshake();
      assertEquals("TLSv1.3", tls13.getSession().getProtocol());
    }
    try (SSLSocket tls12 = socket(port, "TLSv1.2")) {
      assertThrows(SSLHandshakeException.class, tls12::startHandshake);
    }
    assertFalse(
        eventsStartingWith(
                "Cluster node "
                    + address(proxyNode)
                    + " refused a connection: the peer does not offer TLS 1.3")
            .isEmpty(),
        "lines: " + lines());
  }

  private static SSLSocket socket(int port, String protocol) throws IOException {
    SSLSocket socket =
        (SSLSocket)
            TestCerts.sslContext(TestCerts.cluster())
                .getSocketFactory()
                .createSocket("127.0.0.1", port);
    socket.setSoTimeout(10_000);
    socket.setEnabledProtocols(new String[] {protocol});
    return socket;
  }
}
