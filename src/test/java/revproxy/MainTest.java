package revproxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Every command here fails (or only prints help) before an actor system or a socket is created.
 */
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
    Result result = run();
    assertNotEquals(0, result.exitCode());
    assertEquals(2, result.exitCode());
    assertTrue(
        result.err().contains("a role is required: one of proxy, worker, client, demo, server"), result.err());
  }

  @Test
  void unknownRoleIsAUsageError() {
    Result result = run("balancer");
    assertEquals(2, result.exitCode());
    assertTrue(result.err().contains("Unmatched argument at index 0: 'balancer'"), result.err());
  }

  @Test
  void workerSpecWithoutColonIsAUsageError() {
    Result result = run("worker", "--worker", "100");
    assertEquals(2, result.exitCode());
    assertTrue(
        result
            .err()
            .contains(
                "expected ID:POLICY, e.g. 100:111 (worker 100 serving policy 111), got \"100\""),
        result.err());
  }

  @Test
  void workerSpecWithASpaceInItsIdIsAUsageError() {
    Result result = run("worker", "--worker", "1 0:111");
    assertEquals(2, result.exitCode());
    assertTrue(
        result
            .err()
            .contains(
                "worker id and policy must be 1-64 characters of A-Z a-z 0-9 . _ - (got \"1 0:111\")"),
        result.err());
  }

  @Test
  void workerWithoutWorkerOptionIsAUsageError() {
    Result result = run("worker");
    assertEquals(2, result.exitCode());
    assertTrue(
        result.err().contains("Missing required option: '--worker=ID:POLICY'"), result.err());
  }

  @Test
  void workerIdGivenTwiceIsRefusedBeforeStarting() {
    Result result = run("worker", "--worker", "100:111,100:222");
    assertEquals(2, result.exitCode());
    assertEquals("error: worker id 100 is given twice", result.err().strip());
  }

  @Test
  void proxyWithABadSeedIsRefusedBeforeStarting() {
    Result result = run("proxy", "--seed", "nohost");
    assertEquals(2, result.exitCode());
    assertEquals(
        "error: expected HOST:PORT for a seed node, got \"nohost\"", result.err().strip());
  }

  @Test
  void proxyWithAMissingConfigFileIsRefusedBeforeStarting(@TempDir Path dir) {
    Path missing = dir.resolve("missing.conf");
    Result result = run("proxy", "--config", missing.toString());
    assertEquals(2, result.exitCode());
    assertEquals("error: cannot read config file " + missing, result.err().strip());
  }

  @Test
  void workerWithAClusterTlsDirectoryThatIsNotOneIsRefusedBeforeStarting(@TempDir Path dir) {
    Result result = run("worker", "--worker", "100:111", "--cluster-tls", dir.toString());
    assertEquals(2, result.exitCode());
    assertEquals(
        "error: TLS directory "
            + dir
            + ": cannot read "
            + dir.resolve("password")
            + " (make the directory with scripts/make-certs.sh)",
        result.err().strip());
  }

  @Test
  void proxyRequiringClientCertificatesWithoutClientTlsIsRefusedBeforeStarting() {
    Result result = run("proxy", "--require-client-auth");
    assertEquals(2, result.exitCode());
    assertEquals(
        "error: revproxy.proxy.require-client-auth (--require-client-auth) needs client-tls"
            + " (--client-tls DIR)",
        result.err().strip());
  }

  @Test
  void clientWithoutPacketFilesIsAUsageError() {
    Result result = run("client");
    assertEquals(2, result.exitCode());
    assertEquals(
        "error: no packet files given: name files or directories, or use -pkt FILE",
        result.err().strip());
  }

  @Test
  void clientWithAMissingPacketPathIsRefused() {
    Result result = run("client", "/no/such/dir");
    assertEquals(2, result.exitCode());
    assertEquals(
        "error: no such packet file or directory: " + Path.of("/no/such/dir"),
        result.err().strip());
  }

  @Test
  void aMisspeltSettingInTheConfigFileIsRefusedBeforeStarting(@TempDir Path dir)
      throws IOException {
    Path file = dir.resolve("my.conf");
    Files.writeString(file, "revproxy.proxy.prot = 2300\n");
    Result result = run("proxy", "--config", file.toString());
    assertEquals(2, result.exitCode());
    assertEquals(
        "error: unknown setting revproxy.proxy.prot (did you mean revproxy.proxy.port?)",
        result.err().strip());
  }
}
