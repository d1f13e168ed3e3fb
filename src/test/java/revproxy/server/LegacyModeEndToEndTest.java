package revproxy.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.receptionist.Receptionist;
import akka.stream.javadsl.Tcp;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import revproxy.TestConfigs;
import revproxy.legacy.LegacyRegistry;
import revproxy.protocol.Packet;
import revproxy.protocol.PayloadHash;
import revproxy.proxy.ProxyServer;
import revproxy.proxy.ProxySettings;
import revproxy.proxy.RouterActor;
import revproxy.routee.Routee;
import revproxy.worker.HashWorker;

/**
 * Legacy mode end to end: a proxy with one cluster worker, plus two of our HashServers that
 * register over TCP like server.py does; all three share the round robin of one policy, and a
 * server that goes away costs no request.
 */
class LegacyModeEndToEndTest {

  private static final String POLICY = "mix";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ActorTestKit proxyKit = ActorTestKit.create("proxy", TestConfigs.local());
  private final ActorTestKit legacy1Kit = ActorTestKit.create("legacy-1", TestConfigs.local());
  private final ActorTestKit legacy2Kit = ActorTestKit.create("legacy-2", TestConfigs.local());

  @AfterEach
  void shutdown() {
    legacy1Kit.shutdownTestKit();
    legacy2Kit.shutdownTestKit();
    proxyKit.shutdownTestKit();
  }

  /** Starts a HashServer in {@code kit}'s own actor system and registers it with the proxy. */
  private static void startLegacyServer(ActorTestKit kit, String serverId, int proxyPort)
      throws Exception {
    Tcp.ServerBinding binding =
        HashServer.bind(kit.system(), "127.0.0.1", 0, serverId, 65536)
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    ProxyRegistration.register(
            kit.system(),
            "127.0.0.1",
            proxyPort,
            new Packet.Registration(serverId, POLICY, binding.localAddress().getPort()),
            Duration.ofSeconds(3),
            Duration.ofSeconds(1))
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
  }

  private void awaitRoutees(int count) {
    TestProbe<Receptionist.Listing> probe = proxyKit.createTestProbe();
    probe.awaitAssert(
        Duration.ofSeconds(10),
        () -> {
          proxyKit
              .system()
              .receptionist()
              .tell(Receptionist.find(Routee.serviceKey(POLICY), probe.getRef()));
          assertEquals(
              count, probe.receiveMessage().getServiceInstances(Routee.serviceKey(POLICY)).size());
          return null;
        });
  }

  /** One connection to the proxy; requests are sent one at a time, each waiting for its reply. */
  private static final class Client implements AutoCloseable {
    private final Socket socket;
    private final OutputStream out;
    private MappingIterator<JsonNode> replies;
    private int sent;

    Client(InetSocketAddress proxy) throws IOException {
      socket = new Socket(proxy.getAddress(), proxy.getPort());
      socket.setSoTimeout(15_000);
      out = socket.getOutputStream();
    }

    /** Sends {@code count} requests and returns the worker id of each reply, checking its hash. */
    List<String> send(int count) throws IOException {
      List<String> workers = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        String srcid = "c" + sent;
        String payload = "payload-" + sent;
        sent++;
        out.write(
            ("{\"type\": \"0\", \"srcid\": \""
                    + srcid
                    + "\", \"privPoliId\": \""
                    + POLICY
                    + "\", \"payload\": \""
                    + payload
                    + "\"}")
                .getBytes(StandardCharsets.UTF_8));
        out.flush();
        if (replies == null) {
          // Created only now: it reads the first token right away, so it would block before.
          replies = JSON.readerFor(JsonNode.class).readValues(socket.getInputStream());
        }
        assertTrue(replies.hasNextValue(), "no reply to " + srcid);
        JsonNode reply = replies.nextValue();
        assertEquals("2", reply.get("type").asText(), reply.toString());
        assertEquals(srcid, reply.get("destid").asText(), reply.toString());
        assertEquals(40, reply.get("payloadsize").asInt(), reply.toString());
        assertEquals(PayloadHash.sha1Hex(payload), reply.get("payload").asText(), reply.toString());
        workers.add(reply.get("srcid").asText());
      }
      return workers;
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  /** Every worker of {@code expected} in turn, the same order over and over. */
  private static void assertStrictRotation(Set<String> expected, List<String> workers) {
    int period = expected.size();
    assertEquals(expected, Set.copyOf(workers.subList(0, period)), workers.toString());
    for (int i = period; i < workers.size(); i++) {
      assertEquals(workers.get(i - period), workers.get(i), "position " + i + " of " + workers);
    }
  }

  @Test
  void hashServersShareTheRoundRobinWithAWorkerAndAServerThatGoesAwayCostsNoRequest()
      throws Exception {
    proxyKit.spawn(HashWorker.create("akka-1", POLICY));
    // A test of the round robin, not of outlier detection: on a loaded machine the shipped
    // 100 ms could eject legacy-2 and break the strict rotation asserted below.
    ProxySettings settings = TestConfigs.withOutliers(TestConfigs.patientOutliers());
    ActorRef<RouterActor.Command> router = proxyKit.spawn(RouterActor.create(settings));
    ActorRef<LegacyRegistry.Command> legacyServers =
        proxyKit.spawn(LegacyRegistry.create(TestConfigs.legacySettings(), Set.of()));
    InetSocketAddress proxy =
        ProxyServer.bind(
                proxyKit.system(),
                router,
                legacyServers,
                settings,
                TestConfigs.registrationSettings())
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS)
            .localAddress();

    startLegacyServer(legacy1Kit, "legacy-1", proxy.getPort());
    startLegacyServer(legacy2Kit, "legacy-2", proxy.getPort());
    awaitRoutees(3);

    try (Client client = new Client(proxy)) {
      List<String> first = client.send(30);
      assertStrictRotation(Set.of("akka-1", "legacy-1", "legacy-2"), first);

      // legacy-1 goes away: its binding and every connection it accepted close with its system.
      legacy1Kit.shutdownTestKit();

      List<String> afterwards = client.send(30);
      assertFalse(afterwards.contains("legacy-1"), afterwards.toString());
      assertTrue(afterwards.contains("akka-1"), afterwards.toString());
      assertTrue(afterwards.contains("legacy-2"), afterwards.toString());

      // Once the proxy has taken legacy-1 out of the rotation, the two others alternate strictly.
      awaitRoutees(2);
      List<String> settled = client.send(10);
      assertStrictRotation(Set.of("akka-1", "legacy-2"), settled);
      assertNotEquals(settled.get(0), settled.get(1));
    }
  }
}
