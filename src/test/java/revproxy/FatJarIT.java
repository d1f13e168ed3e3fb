package revproxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the shaded jar as a user would (failsafe runs this after `package`). */
class FatJarIT {

  private static final Path JAR = Path.of("target", "akka-reverse-proxy.jar");

  record Run(int exitCode, String stdout, String stderr) {}

  private static Run java(String... args) throws IOException, InterruptedException {
    return java(Path.of("."), Map.of(), List.of(), args);
  }

  /** Runs the jar in {@code directory} with {@code environment} added and {@code jvmOptions}. */
  private static Run java(
      Path directory, Map<String, String> environment, List<String> jvmOptions, String... args)
      throws IOException, InterruptedException {
    Path out = Files.createTempFile("fatjar-out", ".txt");
    Path err = Files.createTempFile("fatjar-err", ".txt");
    Process process = start(directory, environment, jvmOptions, out, err, args);
    if (!process.waitFor(120, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("timed out: " + List.of(args));
    }
    return new Run(
        process.exitValue(),
        Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
  }

  private static Process start(
      Path directory,
      Map<String, String> environment,
      List<String> jvmOptions,
      Path out,
      Path err,
      String... args)
      throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx256m");
    command.addAll(jvmOptions);
    command.add("-jar");
    command.add(JAR.toAbsolutePath().toString());
    command.addAll(List.of(args));
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .directory(directory.toFile())
            .redirectOutput(out.toFile())
            .redirectError(err.toFile());
    builder.environment().putAll(environment);
    return builder.start();
  }

  /** Waits until {@code port} on {@code host} accepts a connection, or the process ends. */
  private static boolean accepts(Process process, String host, int port) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (process.isAlive() && System.nanoTime() < deadline) {
      try {
        new Socket(host, port).close();
        return true;
      } catch (IOException notYet) {
        Thread.sleep(200);
      }
    }
    return false;
  }

  @Test
  void demoRunsTheWholeClusterInOneJvmAndVerifiesEveryPacket() throws Exception {
    Run run = java("demo", "--port", "0");
    assertEquals(0, run.exitCode(), run.stdout() + run.stderr());
    assertTrue(
        run.stdout().contains("19 packets: 19 correct, 0 NOT correct, 0 errors, 0 without reply"),
        run.stdout());
    // Both worker nodes serve each policy. Not an exact 5/5: in a cold JVM the first remote
    // replies can be slow enough for the outlier hold (max-unanswered, hold-after) to send a
    // request to the other routee, by design; exact round robin is asserted in
    // ClusterRoutingTest and RemoteBatchingTest.
    assertTrue(
        Pattern.compile("policy 111 served by workers \\{100=[1-9][0-9]*, 300=[1-9][0-9]*}")
            .matcher(run.stdout())
            .find(),
        run.stdout());
    assertTrue(
        Pattern.compile("policy 222 served by workers \\{200=[1-9][0-9]*, 400=[1-9][0-9]*}")
            .matcher(run.stdout())
            .find(),
        run.stdout());
    assertTrue(run.stdout().contains("RESULT: OK"), run.stdout());
  }

  @Test
  void demoWithClusterTlsVerifiesEveryPacketOverMutualTls() throws Exception {
    Run run = java("demo", "--port", "0", "--cluster-tls", TestCerts.cluster().toString());
    assertEquals(0, run.exitCode(), run.stdout() + run.stderr());
    assertTrue(
        run.stdout().contains("19 packets: 19 correct, 0 NOT correct, 0 errors, 0 without reply"),
        run.stdout());
    assertTrue(run.stdout().contains("RESULT: OK"), run.stdout());
    assertFalse(run.stderr().contains("ClusterTlsEngineProvider"), run.stderr());
  }

  @Test
  void demoFailsWhenAPacketCannotBeServed(@TempDir Path packets) throws Exception {
    Files.writeString(
        packets.resolve("1.json"),
        "{\"type\": \"0\", \"srcid\": \"1\", \"privPoliId\": \"111\", \"payload\": \"ok\"}");
    Files.writeString(
        packets.resolve("2.json"),
        "{\"type\": \"0\", \"srcid\": \"2\", \"privPoliId\": \"999\", \"payload\": \"nobody\"}");
    Run run = java("demo", "--port", "0", "--packets", packets.toString());
    assertEquals(1, run.exitCode(), run.stdout() + run.stderr());
    assertTrue(
        run.stdout().contains("ERROR no_worker_for_policy: no worker serves policy \"999\""),
        run.stdout());
    assertTrue(run.stdout().contains("RESULT: FAILED"), run.stdout());
  }

  @Test
  void clientReportsAnUnreachableProxyReadably() throws Exception {
    Run run =
        java("client", "--port", Integer.toString(TestSockets.unusedPort()), "packets/0.json");
    assertEquals(1, run.exitCode(), run.stdout() + run.stderr());
    assertTrue(
        run.stdout().contains("error: cannot exchange packets with the proxy at 127.0.0.1:"),
        run.stdout());
  }

  @Test
  void badWorkerOptionIsAReadableErrorNotAStackTrace() throws Exception {
    Run run = java("worker", "--worker", "100");
    assertEquals(2, run.exitCode());
    assertTrue(run.stderr().contains("is not ID:POLICY"), run.stderr());
    assertTrue(!run.stderr().contains("\tat "), run.stderr());
  }

  /**
   * Only --cluster-host given (the cluster port comes from the configuration): the proxy is its own
   * seed at that address, becomes Up and listens, instead of waiting for 127.0.0.1:2551.
   */
  @Test
  void aProxyGivenOnlyAClusterHostSeedsItselfThereAndListens(@TempDir Path dir) throws Exception {
    int clientPort = TestSockets.unusedPort();
    Process proxy =
        start(
            dir,
            Map.of(),
            List.of("-Drevproxy.proxy.cluster-port=" + TestSockets.unusedPort()),
            dir.resolve("out.txt"),
            dir.resolve("err.txt"),
            "proxy",
            "--cluster-host",
            "127.0.0.2",
            "--port",
            Integer.toString(clientPort),
            "--management-port",
            Integer.toString(TestSockets.unusedPort()));
    try {
      assertTrue(accepts(proxy, "127.0.0.1", clientPort), Files.readString(dir.resolve("err.txt")));
    } finally {
      proxy.destroy();
      proxy.waitFor(30, TimeUnit.SECONDS);
    }
  }

  /** The port is said in one line; Akka's own ERROR with a stack trace is not logged. */
  @Test
  void aTakenClientPortIsOneLineWithoutAStackTrace(@TempDir Path dir) throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      Run run =
          java(
              dir,
              Map.of(),
              List.of(),
              "proxy",
              "--port",
              Integer.toString(port),
              "--cluster-port",
              Integer.toString(TestSockets.unusedPort()),
              "--management-port",
              Integer.toString(TestSockets.unusedPort()));
      assertEquals(1, run.exitCode(), run.stderr());
      List<String> problems =
          run.stderr().lines().filter(line -> !line.contains(" INFO ")).toList();
      assertEquals(
          List.of("error: port " + port + " on 127.0.0.1 is already in use (client port)"),
          problems);
    }
  }

  // ---------------------------------------------------------------- logs

  /** Runs a proxy until it listens, stops it with SIGTERM, and returns what it logged. */
  private static List<String> proxyLog(Path dir, String... options) throws Exception {
    int clientPort = TestSockets.unusedPort();
    List<String> args =
        new ArrayList<>(
            List.of(
                "proxy",
                "--port",
                Integer.toString(clientPort),
                "--cluster-port",
                Integer.toString(TestSockets.unusedPort()),
                "--management-port",
                Integer.toString(TestSockets.unusedPort())));
    args.addAll(List.of(options));
    Path err = dir.resolve("err.txt");
    Process proxy =
        start(dir, Map.of(), List.of(), dir.resolve("out.txt"), err, args.toArray(String[]::new));
    try {
      assertTrue(accepts(proxy, "127.0.0.1", clientPort), Files.readString(err));
    } finally {
      proxy.destroy();
      assertTrue(proxy.waitFor(30, TimeUnit.SECONDS));
    }
    return Files.readAllLines(err);
  }

  @Test
  void logLinesStartWithTheDateAndTimeInIso8601(@TempDir Path dir) throws Exception {
    List<String> log = proxyLog(dir);
    assertFalse(log.isEmpty());
    String iso8601 = "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}(Z|[+-]\\d{2}:\\d{2})";
    for (String line : log) {
      assertTrue(line.matches(iso8601 + " .*"), line);
    }
  }

  @Test
  void logFormatJsonWritesOneJsonObjectPerLine(@TempDir Path dir) throws Exception {
    List<String> log = proxyLog(dir, "--log-format", "json");
    ObjectMapper json = new ObjectMapper();
    List<JsonNode> events = new ArrayList<>();
    for (String line : log) {
      events.add(json.readTree(line));
    }
    assertTrue(
        events.stream()
            .anyMatch(
                event ->
                    event.get("level").asText().equals("INFO")
                        && event.get("loggerName").asText().equals("revproxy.proxy.ProxyNode")
                        && event.get("formattedMessage").asText().startsWith("Proxy listening on ")
                        && event.get("timestamp").isNumber()),
        log.toString());
  }

  // ---------------------------------------------------------------- configuration, in the jar

  /**
   * The shaded jar appends Akka's reference.conf after ours: the product's Akka settings must still
   * be the ones in effect.
   */
  @Test
  void theShadedJarRunsWithTheProductsAkkaSettings(@TempDir Path dir) throws Exception {
    List<String> settings = check(dir, Map.of(), List.of());
    assertTrue(settings.contains("akka.actor.provider = \"cluster\""), settings.toString());
    assertTrue(
        settings.contains(
            "akka.actor.serialization-bindings.\"revproxy.cluster.CborSerializable\" ="
                + " \"jackson-cbor\""),
        settings.toString());
    assertTrue(
        settings.contains("akka.actor.allow-java-serialization = \"off\""), settings.toString());
    assertTrue(
        settings.contains(
            "akka.cluster.seed-nodes = [\"akka://akka-reverse-proxy@127.0.0.1:2551\"]"),
        settings.toString());
    assertTrue(settings.contains("revproxy.proxy.port = 2100"), settings.toString());
  }

  @Test
  void configFilePropertyWorksFromAnyDirectoryOverTheDefaults(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("site.conf"), "revproxy.proxy.port = 2300\n");
    List<String> settings = check(dir, Map.of(), List.of("-Dconfig.file=site.conf"));
    assertTrue(settings.contains("revproxy.proxy.port = 2300"), settings.toString());
    assertTrue(settings.contains("revproxy.proxy.request-timeout = \"5s\""), settings.toString());
  }

  @Test
  void environmentOverridesWinOverSystemProperties(@TempDir Path dir) throws Exception {
    List<String> settings =
        check(
            dir,
            Map.of(
                "CONFIG_FORCE_revproxy_proxy_port", "2400",
                "CONFIG_FORCE_revproxy_proxy_request__timeout", "2s"),
            List.of("-Drevproxy.proxy.port=2300"));
    // From the environment, as every value there, a string: "2400" is read as the number.
    assertTrue(settings.contains("revproxy.proxy.port = \"2400\""), settings.toString());
    assertTrue(settings.contains("revproxy.proxy.request-timeout = \"2s\""), settings.toString());
  }

  @Test
  void configOptionIsReadOverTheLocalApplicationConf(@TempDir Path dir) throws Exception {
    Files.writeString(
        dir.resolve("application.conf"),
        "revproxy.proxy.port = 2300\nrevproxy.proxy.max-attempts = 5\n");
    Files.writeString(dir.resolve("node.conf"), "revproxy.proxy.port = 2400\n");
    List<String> settings = check(dir, Map.of(), List.of(), "--config", "node.conf");
    assertTrue(settings.contains("revproxy.proxy.port = 2400"), settings.toString());
    assertTrue(settings.contains("revproxy.proxy.max-attempts = 5"), settings.toString());
  }

  @Test
  void aMisspeltSettingInTheEnvironmentStopsTheStart(@TempDir Path dir) throws Exception {
    Run run =
        java(
            dir, Map.of("CONFIG_FORCE_revproxy_proxy_prot", "2300"), List.of(), "proxy", "--check");
    assertEquals(2, run.exitCode(), run.stdout() + run.stderr());
    assertEquals(
        "error: unknown setting revproxy.proxy.prot (did you mean revproxy.proxy.port?)\n"
            + "try 'akka-reverse-proxy proxy --help'\n",
        run.stderr());
  }

  /** The lines {@code proxy --check} prints in {@code dir}, which must be valid. */
  private static List<String> check(
      Path dir, Map<String, String> environment, List<String> jvmOptions, String... options)
      throws Exception {
    List<String> args = new ArrayList<>(List.of("proxy", "--check"));
    args.addAll(List.of(options));
    Run run = java(dir, environment, jvmOptions, args.toArray(String[]::new));
    assertEquals(0, run.exitCode(), run.stdout() + run.stderr());
    return run.stdout().lines().toList();
  }
}
