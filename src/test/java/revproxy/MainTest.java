package revproxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Every command here fails (or only prints help) before an actor system or a socket is created. */
class MainTest {

  /** What one execution printed and returned. */
  private record Result(int exitCode, String out, String err) {}

  private static Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine commandLine = Main.commandLine();
    commandLine.setOut(new PrintWriter(out, true));
    commandLine.setErr(new PrintWriter(err, true));
    int exitCode = commandLine.execute(args);
    return new Result(exitCode, out.toString(), err.toString());
  }

  /**
   * A bad command line or configuration: exactly the error line and a pointer to the role's help on
   * stderr, nothing on stdout (no usage dump), exit status 2.
   */
  private static void assertUsageError(Result result, String role, String errorLine) {
    assertEquals(
        errorLine + "\ntry 'akka-reverse-proxy" + (role.isEmpty() ? "" : " " + role) + " --help'\n",
        result.err().replace(System.lineSeparator(), "\n"));
    assertEquals("", result.out());
    assertEquals(2, result.exitCode());
  }

  @Test
  void helpExitsZeroAndListsEveryRole() {
    Result result = run("--help");
    assertEquals(0, result.exitCode(), result.err());
    assertTrue(result.out().startsWith("Usage: akka-reverse-proxy "), result.out());
    for (String role : new String[] {"proxy", "worker", "client", "demo"}) {
      assertTrue(
          result.out().lines().anyMatch(line -> line.strip().startsWith(role + " ")),
          "no line for " + role + " in:\n" + result.out());
    }
    assertEquals("", result.err());
  }

  @Test
  void versionExitsZero() {
    Result result = run("--version");
    assertEquals(0, result.exitCode());
    assertEquals("akka-reverse-proxy 0.1.0", result.out().strip());
  }

  @Test
  void noRoleIsAUsageError() {
    assertUsageError(
        run(),
        "",
        "error: a role is required: one of proxy, worker, client, demo, server, bench, status");
  }

  @Test
  void unknownRoleIsAUsageError() {
    assertUsageError(run("balancer"), "", "error: Unmatched argument at index 0: 'balancer'");
  }

  @Test
  void aMistypedRoleSaysWhichOneWasMeant() {
    assertUsageError(
        run("workr"), "", "error: Unmatched argument at index 0: 'workr' (did you mean worker?)");
  }

  @Test
  void aMistypedOptionSaysWhichOneWasMeant() {
    assertUsageError(
        run("proxy", "--prot", "2300"),
        "proxy",
        "error: Unknown options: '--prot', '2300' (did you mean --port?)");
  }

  @Test
  void workerSpecWithoutColonIsAUsageError() {
    assertUsageError(
        run("worker", "--worker", "100"),
        "worker",
        "error: --worker: \"100\" is not ID:POLICY (e.g. 100:111, worker 100 serving policy 111)");
  }

  @Test
  void workerSpecWithASpaceInItsIdIsAUsageError() {
    assertUsageError(
        run("worker", "--worker", "1 0:111"),
        "worker",
        "error: --worker: \"1 0:111\" is not ID:POLICY (each 1-64 characters of A-Z a-z 0-9 . _ -)");
  }

  @Test
  void workerWithoutWorkerOptionIsAUsageError() {
    assertUsageError(
        run("worker"), "worker", "error: Missing required option: '--worker=ID:POLICY'");
  }

  @Test
  void workerIdGivenTwiceIsRefusedBeforeStarting() {
    assertUsageError(
        run("worker", "--worker", "100:111,100:222"),
        "worker",
        "error: worker id 100 is given twice");
  }

  // ---------------------------------------------------------------- ports

  @Test
  void aPortAboveTheRangeIsAUsageError() {
    assertUsageError(
        run("proxy", "--port", "70000"),
        "proxy",
        "error: --port: \"70000\" is not a port (0-65535)");
  }

  @Test
  void aNegativePortIsAUsageError() {
    assertUsageError(
        run("proxy", "--cluster-port", "-1"),
        "proxy",
        "error: --cluster-port: \"-1\" is not a port (0-65535)");
  }

  @Test
  void aPortThatIsNoNumberIsAUsageError() {
    assertUsageError(
        run("worker", "--worker", "100:111", "--management-port", "http"),
        "worker",
        "error: --management-port: \"http\" is not a port (0-65535)");
  }

  /** Port 0 is "any free port" for a port to listen on, and no port to connect to. */
  @Test
  void portZeroIsNoPortToConnectTo() {
    assertUsageError(
        run("client", "--port", "0", "packets/0.json"),
        "client",
        "error: --port: \"0\" is not a port (1-65535)");
  }

  @Test
  void aBadPortReadsTheSameInEveryRole() {
    String[][] commands = {
      {"proxy", "--port"},
      {"demo", "--port"},
      {"worker", "--cluster-port"},
      {"server", "--listen"},
    };
    for (String[] command : commands) {
      String[] args =
          command[0].equals("worker")
              ? new String[] {"worker", "--worker", "100:111", command[1], "65536"}
              : command[0].equals("server")
                  ? new String[] {"server", "--id", "1", "--policy", "1", command[1], "65536"}
                  : new String[] {command[0], command[1], "65536"};
      assertUsageError(
          run(args), command[0], "error: " + command[1] + ": \"65536\" is not a port (0-65535)");
    }
    assertUsageError(
        run("bench", "--port", "65536"),
        "bench",
        "error: --port: \"65536\" is not a port (1-65535)");
  }

  @Test
  void theClientPortEqualToTheClusterPortIsAUsageError() {
    assertUsageError(
        run("proxy", "--port", "2551"),
        "proxy",
        "error: --port and --cluster-port are both 2551: each needs a port of its own");
  }

  @Test
  void theClusterPortEqualToTheManagementPortIsAUsageError() {
    assertUsageError(
        run("worker", "--worker", "100:111", "--cluster-port", "9000", "--management-port", "9000"),
        "worker",
        "error: --cluster-port and --management-port are both 9000: each needs a port of its own");
  }

  // ---------------------------------------------------------------- hosts, durations, numbers

  @Test
  void aHostWithASpaceIsAUsageError() {
    assertUsageError(
        run("proxy", "--host", "bad host"),
        "proxy",
        "error: --host: \"bad host\" is not a host (an IP address or a name that resolves)");
  }

  @Test
  void anAddressOutOfRangeIsAUsageError() {
    assertUsageError(
        run("proxy", "--cluster-host", "300.1.1.1"),
        "proxy",
        "error: --cluster-host: \"300.1.1.1\" is not a host (an IP address or a name that"
            + " resolves)");
  }

  @Test
  void aNameThatDoesNotResolveIsAUsageError() {
    assertUsageError(
        run("client", "--host", "no-such-host.invalid", "packets/0.json"),
        "client",
        "error: --host: \"no-such-host.invalid\" is not a host (an IP address or a name that"
            + " resolves)");
  }

  @Test
  void proxyWithABadSeedIsRefusedBeforeStarting() {
    assertUsageError(
        run("proxy", "--seed", "nohost"),
        "proxy",
        "error: --seed: \"nohost\" is not HOST:PORT (a host, a colon, a port 1-65535)");
  }

  @Test
  void aBadProxyOfTheClientOrTheBenchIsRefusedBeforeStarting() {
    assertUsageError(
        run("client", "--proxy", "127.0.0.1:2100,nohost", "packets/0.json"),
        "client",
        "error: --proxy: \"nohost\" is not HOST:PORT (a host, a colon, a port 1-65535)");
    assertUsageError(
        run("bench", "--proxy", "127.0.0.1:0"),
        "bench",
        "error: --proxy: \"127.0.0.1:0\" is not HOST:PORT (a host, a colon, a port 1-65535)");
  }

  @Test
  void bootstrapWithASeedIsRefusedBeforeStarting() {
    assertUsageError(
        run("worker", "--worker", "100:111", "--bootstrap", "--seed", "10.0.0.1:2551"),
        "worker",
        "error: --seed and cluster bootstrap (--bootstrap, revproxy.cluster.bootstrap = on)"
            + " exclude each other: a bootstrapping node finds its cluster through service"
            + " discovery");
  }

  @Test
  void aBootstrappingWorkerWithoutManagementPortIsRefusedBeforeStarting() {
    assertUsageError(
        run("worker", "--worker", "100:111", "--bootstrap"),
        "worker",
        "error: cluster bootstrap (--bootstrap, revproxy.cluster.bootstrap = on) needs this node's"
            + " management endpoint: give --management-port");
  }

  @Test
  void aBootstrappingProxyWithoutDiscoveryMethodIsRefusedBeforeStarting() {
    assertUsageError(
        run("proxy", "--bootstrap"),
        "proxy",
        "error: cluster bootstrap (--bootstrap, revproxy.cluster.bootstrap = on) needs a service"
            + " discovery method: set akka.discovery.method (config, kubernetes-api, ...) in the"
            + " --config file, see docs/DEPLOY.md");
  }

  @Test
  void aSeedWithAPortThatIsNoNumberIsRefused() {
    assertUsageError(
        run("worker", "--worker", "100:111", "--seed", "127.0.0.1:port"),
        "worker",
        "error: --seed: \"127.0.0.1:port\" is not HOST:PORT (a host, a colon, a port 1-65535)");
  }

  @Test
  void statusWithABadEndpointIsAUsageError() {
    assertUsageError(
        run("status", "--management", "127.0.0.1:99999"),
        "status",
        "error: --management: \"127.0.0.1:99999\" is not HOST:PORT (a host, a colon, a port"
            + " 1-65535)");
  }

  @Test
  void aBadDurationIsAUsageError() {
    assertUsageError(
        run("client", "--timeout", "5x", "packets/0.json"),
        "client",
        "error: --timeout: \"5x\" is not a duration (e.g. 500ms, 30s)");
  }

  @Test
  void aNegativeDurationIsAUsageError() {
    assertUsageError(
        run("bench", "--warmup", "-1s"),
        "bench",
        "error: --warmup: \"-1s\" is not a duration (e.g. 500ms, 30s)");
  }

  @Test
  void aCountThatIsNoNumberIsAUsageError() {
    assertUsageError(
        run("bench", "--connections", "many"),
        "bench",
        "error: --connections: \"many\" is not a whole number");
  }

  // ---------------------------------------------------------------- configuration

  @Test
  void proxyWithAMissingConfigFileIsRefusedBeforeStarting(@TempDir Path dir) {
    Path missing = dir.resolve("missing.conf");
    assertUsageError(
        run("proxy", "--config", missing.toString()),
        "proxy",
        "error: cannot read config file " + missing);
  }

  @Test
  void workerWithAClusterTlsDirectoryThatIsNotOneIsRefusedBeforeStarting(@TempDir Path dir) {
    assertUsageError(
        run("worker", "--worker", "100:111", "--cluster-tls", dir.toString()),
        "worker",
        "error: TLS directory "
            + dir
            + ": cannot read "
            + dir.resolve("password")
            + " (make the directory with scripts/make-certs.sh)");
  }

  @Test
  void proxyRequiringClientCertificatesWithoutClientTlsIsRefusedBeforeStarting() {
    assertUsageError(
        run("proxy", "--require-client-auth"),
        "proxy",
        "error: revproxy.proxy.require-client-auth (--require-client-auth) needs client-tls"
            + " (--client-tls DIR)");
  }

  @Test
  void aMisspeltSettingInTheConfigFileIsRefusedBeforeStarting(@TempDir Path dir)
      throws IOException {
    Path file = dir.resolve("my.conf");
    Files.writeString(file, "revproxy.proxy.prot = 2300\n");
    assertUsageError(
        run("proxy", "--config", file.toString()),
        "proxy",
        "error: unknown setting revproxy.proxy.prot (did you mean revproxy.proxy.port?)");
  }

  @Test
  void aPortOutOfRangeInTheConfigurationIsRefusedBeforeStarting(@TempDir Path dir)
      throws IOException {
    Path file = dir.resolve("my.conf");
    Files.writeString(file, "revproxy.proxy.port = 70000\n");
    assertUsageError(
        run("proxy", "--config", file.toString()),
        "proxy",
        "error: revproxy.proxy.port: \"70000\" is not a port (0-65535)");
  }

  // ---------------------------------------------------------------- client

  @Test
  void clientWithoutPacketFilesIsAUsageError() {
    assertUsageError(
        run("client"),
        "client",
        "error: no packet files given: name files or directories, or use -pkt FILE");
  }

  @Test
  void clientWithAMissingPacketPathIsRefused() {
    assertUsageError(
        run("client", "/no/such/dir"),
        "client",
        "error: no such packet file or directory: " + Path.of("/no/such/dir"));
  }

  // ---------------------------------------------------------------- --check

  @Test
  void proxyCheckPrintsWhereTheNodeRunsAndItsSettingsAndStartsNothing() {
    Result result = run("proxy", "--check", "--port", "2300", "--cluster-port", "2600");
    assertEquals(0, result.exitCode(), result.err());
    assertEquals("", result.err());
    List<String> lines = result.out().lines().toList();
    assertEquals(
        List.of(
            "# proxy: the configuration and the options are valid; it would run with:",
            "akka.actor.provider = \"cluster\"",
            "akka.actor.serialization-bindings.\"revproxy.cluster.CborSerializable\" ="
                + " \"jackson-cbor\"",
            "akka.actor.allow-java-serialization = \"off\"",
            "akka.cluster.roles = [\"proxy\"]",
            "akka.cluster.seed-nodes = [\"akka://akka-reverse-proxy@127.0.0.1:2600\"]",
            "akka.remote.artery.transport = \"tcp\"",
            "akka.remote.artery.canonical.hostname = \"127.0.0.1\"",
            "akka.remote.artery.canonical.port = 2600",
            "akka.management.http.hostname = \"127.0.0.1\"",
            "akka.management.http.port = 8558",
            "revproxy.cluster-tls = \"\"",
            "revproxy.management.host = \"127.0.0.1\""),
        lines.subList(0, 13));
    assertTrue(lines.contains("revproxy.proxy.port = 2300"), result.out());
    assertTrue(lines.contains("revproxy.proxy.outlier.overdue-after = \"100ms\""), result.out());
    assertTrue(lines.contains("revproxy.legacy.registration.token = \"\""), result.out());
    assertTrue(lines.stream().noneMatch(line -> line.startsWith("revproxy.client.")), result.out());
  }

  @Test
  void theAccessLogOptionTurnsTheAccessLogOn() {
    Result result = run("proxy", "--check", "--access-log");
    assertEquals(0, result.exitCode(), result.err());
    assertTrue(
        result.out().lines().toList().contains("revproxy.proxy.access-log = true"), result.out());
  }

  @Test
  void checkHidesTheRegistrationToken() {
    String key = "revproxy.legacy.registration.token";
    System.setProperty(key, "s3cret");
    ConfigFactory.invalidateCaches();
    try {
      Result result = run("proxy", "--check");
      assertEquals(0, result.exitCode(), result.err());
      assertTrue(result.out().lines().toList().contains(key + " = \"<hidden>\""), result.out());
      assertFalse(result.out().contains("s3cret"), result.out());
    } finally {
      System.clearProperty(key);
      ConfigFactory.invalidateCaches();
    }
  }

  @Test
  void workerCheckWithABadSettingIsTheErrorAndExitTwo(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("my.conf");
    Files.writeString(file, "revproxy.worker.seeds-lost-timeout = soon\n");
    assertUsageError(
        run("worker", "--worker", "100:111", "--check", "--config", file.toString()),
        "worker",
        "error: "
            + file
            + ": 1: Invalid value at 'seeds-lost-timeout': No number in duration value 'soon'");
  }

  @Test
  void everyRoleChecksItsOwnSettings() {
    String[][] commands = {
      {"worker", "--worker", "100:111", "--check"},
      {"client", "--check", "packets/0.json"},
      {"server", "--id", "100", "--policy", "111", "--listen", "0", "--check"},
      {"bench", "--check"},
      {"demo", "--check"},
    };
    String[] firstSetting = {
      "akka.actor.provider = \"cluster\"",
      "revproxy.client.host = \"127.0.0.1\"",
      "revproxy.server.connections = 32",
      "revproxy.bench.connect-timeout = \"10s\"",
      "revproxy.cluster-tls = \"\"",
    };
    for (int i = 0; i < commands.length; i++) {
      Result result = run(commands[i]);
      assertEquals(0, result.exitCode(), result.err());
      assertEquals(
          List.of(
              "# "
                  + commands[i][0]
                  + ": the configuration and the options are valid; it would run with:",
              firstSetting[i]),
          result.out().lines().limit(2).toList());
    }
  }
}
