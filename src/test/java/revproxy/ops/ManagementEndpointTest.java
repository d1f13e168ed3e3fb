package revproxy.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorSystem;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import revproxy.TestConfigs;
import revproxy.TestSockets;
import revproxy.cluster.NodeConfig;
import revproxy.node.NodeGuardian;
import revproxy.worker.WorkerSpec;

/** The management endpoint of a proxy node with a local worker, over real HTTP. */
class ManagementEndpointTest {

  static final HttpClient HTTP = HttpClient.newHttpClient();
  static final ObjectMapper JSON = new ObjectMapper();
  static ActorTestKit kit;
  static int managementPort;
  static InetSocketAddress proxy;

  @BeforeAll
  static void start() throws Exception {
    managementPort = TestSockets.unusedPort();
    Config config =
        ConfigFactory.parseString(
                "akka.cluster.roles = [proxy, worker]\n"
                    + "revproxy.proxy.port = 0\n"
                    + "revproxy.management.enabled = true\n"
                    + "akka.management.http.hostname = \"127.0.0.1\"\n"
                    + "akka.management.http.port = "
                    + managementPort)
            .withFallback(TestConfigs.clusterNode("proxy"));
    ActorSystem<NodeGuardian.Command> system =
        ActorSystem.create(
            NodeGuardian.create(config, List.of(new WorkerSpec("100", "mgmt"))),
            NodeConfig.SYSTEM_NAME,
            config);
    kit = ActorTestKit.create(system);
    Cluster.get(system).manager().tell(Join.create(Cluster.get(system).selfMember().address()));
    TestProbe<InetSocketAddress> address = kit.createTestProbe();
    system.tell(new NodeGuardian.GetProxyAddress(address.getRef()));
    proxy = address.receiveMessage(Duration.ofSeconds(20));
    awaitServed();
  }

  /**
   * The worker is registered (and /ready is 200) up to about half a second before the receptionist
   * lists it to the proxy: a warm JVM (after another test with management) runs the tests inside
   * that window unless they wait for a real reply.
   */
  private static void awaitServed() throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (true) {
      try (Socket socket = TestSockets.connect(proxy)) {
        List<JsonNode> replies =
            TestSockets.pipeline(socket, TestSockets.request("ready", "mgmt", "ready"));
        if (!replies.isEmpty() && "100".equals(replies.get(0).path("srcid").asText())) {
          return;
        }
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("worker 100 never served policy mgmt");
      }
      Thread.sleep(100);
    }
  }

  @AfterAll
  static void shutdown() {
    kit.shutdownTestKit();
  }

  private static HttpResponse<String> get(String path) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort + path))
            .timeout(Duration.ofSeconds(5))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Retries while the endpoint starts or the node gets ready. */
  private static HttpResponse<String> awaitOk(String path) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (true) {
      try {
        HttpResponse<String> response = get(path);
        if (response.statusCode() == 200 || System.nanoTime() > deadline) {
          return response;
        }
      } catch (java.io.IOException notYet) {
        if (System.nanoTime() > deadline) {
          throw notYet;
        }
      }
      Thread.sleep(100);
    }
  }

  private static void send(String requests) throws Exception {
    try (Socket socket = TestSockets.connect(proxy)) {
      TestSockets.pipeline(socket, requests);
    }
  }

  @Test
  void aliveAndReadyOnceTheProxyListensAndItsWorkersAreRegistered() throws Exception {
    assertEquals(200, awaitOk("/alive").statusCode());
    HttpResponse<String> ready = awaitOk("/ready");
    assertEquals(200, ready.statusCode(), ready.body());
  }

  @Test
  void clusterMembersListThisNodeWithItsRoles() throws Exception {
    JsonNode members = JSON.readTree(awaitOk("/cluster/members").body());
    assertEquals(1, members.get("members").size());
    JsonNode self = members.get("members").get(0);
    assertEquals("Up", self.get("status").asText());
    assertTrue(self.get("roles").toString().contains("\"proxy\""), self.toString());
    assertTrue(self.get("roles").toString().contains("\"worker\""), self.toString());
  }

  @Test
  void routingListsEachPolicyWithItsWorkersNodesAndStates() throws Exception {
    awaitOk("/ready");
    send(TestSockets.request("r1", "mgmt", "x"));
    JsonNode policies = JSON.readTree(awaitOk("/routing").body()).get("policies");
    JsonNode mgmt = null;
    for (JsonNode policy : policies) {
      if (policy.get("policy").asText().equals("mgmt")) {
        mgmt = policy;
      }
    }
    assertTrue(mgmt != null, policies.toString());
    JsonNode routee = mgmt.get("routees").get(0);
    assertEquals("100", routee.get("id").asText());
    assertEquals("serving", routee.get("state").asText());
    assertEquals(0, routee.get("inFlight").asInt());
    assertEquals(
        Cluster.get(kit.system()).selfMember().address().toString(), routee.get("node").asText());
  }

  @Test
  void metricsCountRequestsByPolicyAndOutcomeAndExposeEveryDocumentedName() throws Exception {
    awaitOk("/ready");
    send(
        TestSockets.request("m1", "mgmt", "a")
            + TestSockets.request("m2", "mgmt", "b")
            + TestSockets.request("m3", "no-such-policy", "c")
            + "{\"type\": \"0\", \"srcid\": 1}"
            + "not json");
    String metrics = awaitOk("/metrics").body();
    for (String name :
        List.of(
            "revproxy_requests_total",
            "revproxy_request_duration_seconds_bucket",
            "revproxy_retries_total",
            "revproxy_ejections_total",
            "revproxy_policy_workers",
            "revproxy_client_connections",
            "revproxy_client_connections_refused_total",
            "revproxy_protocol_errors_total",
            "revproxy_legacy_backends",
            "revproxy_worker_hashes_total",
            "jvm_memory_used_bytes",
            "jvm_threads_current")) {
      assertTrue(metrics.contains("\n" + name), name + " missing from /metrics");
    }
    assertTrue(
        value(metrics, "revproxy_requests_total{outcome=\"ok\",policy=\"mgmt\"}") >= 2, metrics);
    assertTrue(
        value(
                metrics,
                "revproxy_requests_total{outcome=\"no_worker_for_policy\",policy=\"(none)\"}")
            >= 1,
        metrics);
    assertTrue(value(metrics, "revproxy_protocol_errors_total{code=\"missing_field\"}") >= 1);
    assertTrue(value(metrics, "revproxy_protocol_errors_total{code=\"not_json\"}") >= 1);
    assertEquals(1.0, value(metrics, "revproxy_policy_workers{policy=\"mgmt\"}"));
    assertTrue(value(metrics, "revproxy_worker_hashes_total{policy=\"mgmt\",worker=\"100\"}") >= 2);
    // Made-up policies add no series of their own.
    assertTrue(!metrics.contains("policy=\"no-such-policy\""), metrics);
  }

  /** What one command line printed and returned. */
  private record Run(int status, String out, String err) {}

  private static Run run(String... args) {
    java.io.StringWriter out = new java.io.StringWriter();
    java.io.StringWriter err = new java.io.StringWriter();
    picocli.CommandLine commandLine = revproxy.Main.commandLine();
    commandLine.setOut(new java.io.PrintWriter(out, true));
    commandLine.setErr(new java.io.PrintWriter(err, true));
    int status = commandLine.execute(args);
    return new Run(status, out.toString(), err.toString());
  }

  @Test
  void theStatusRolePrintsTheMembersAndThePolicyTable() throws Exception {
    awaitOk("/ready");
    send(TestSockets.request("s1", "mgmt", "x"));
    Run status = run("status", "--management", "127.0.0.1:" + managementPort);
    assertEquals(0, status.status(), status.err());
    String self = Cluster.get(kit.system()).selfMember().address().toString();
    List<String> lines = List.of(status.out().split("\n"));
    assertEquals("Members (leader " + self + ")", lines.get(0));
    assertEquals("ADDRESS", lines.get(1).trim().split("\\s+")[0]);
    assertEquals(
        List.of(self, "proxy,worker", "Up", "yes"), List.of(lines.get(2).trim().split("\\s+")));
    int policies = lines.indexOf("Policies");
    assertTrue(policies > 0, status.out());
    List<String> mgmt = null;
    for (String line : lines.subList(policies + 1, lines.size())) {
      if (line.trim().startsWith("mgmt ")) {
        mgmt = List.of(line.trim().split("\\s+"));
      }
    }
    assertEquals(List.of("mgmt", "100", self, "serving", "0"), mgmt, status.out());
    JsonNode json =
        JSON.readTree(run("status", "--management", "127.0.0.1:" + managementPort, "--json").out());
    assertEquals("Up", json.get("members").get("members").get(0).get("status").asText());
    assertTrue(json.get("routing").get("policies").size() >= 1);
  }

  @Test
  void theStatusRoleSaysInOneLineWhenTheEndpointCannotBeReached() throws Exception {
    int closed = TestSockets.unusedPort();
    Run status = run("status", "--management", "127.0.0.1:" + closed);
    assertEquals(1, status.status());
    assertEquals("", status.out());
    String[] lines = status.err().strip().split("\n");
    assertEquals(1, lines.length, status.err());
    assertTrue(
        lines[0].startsWith(
            "error: cannot read the management endpoint at 127.0.0.1:" + closed + ": "),
        lines[0]);
  }

  /** The value of one sample line, e.g. {@code name{labels} 3.0}. */
  private static double value(String metrics, String series) {
    for (String line : metrics.split("\n")) {
      if (line.startsWith(series + " ")) {
        return Double.parseDouble(line.substring(series.length() + 1).trim());
      }
    }
    throw new AssertionError(series + " not in\n" + metrics);
  }
}
