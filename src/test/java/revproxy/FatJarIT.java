package revproxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the shaded jar as a user would (failsafe runs this after `package`). */
class FatJarIT {

  private static final Path JAR = Path.of("target", "akka-reverse-proxy.jar");

  record Run(int exitCode, String stdout, String stderr) {}

  private static Run java(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx256m");
    command.add("-jar");
    command.add(JAR.toString());
    command.addAll(List.of(args));
    Path out = Files.createTempFile("fatjar-out", ".txt");
    Path err = Files.createTempFile("fatjar-err", ".txt");
    Process process =
        new ProcessBuilder(command)
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .start();
    if (!process.waitFor(120, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("timed out: " + command);
    }
    return new Run(
        process.exitValue(),
        Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
  }

  @Test
  void demoRunsTheWholeClusterInOneJvmAndVerifiesEveryPacket() throws Exception {
    Run run = java("demo", "--port", "0");
    assertEquals(0, run.exitCode(), run.stdout() + run.stderr());
    assertTrue(run.stdout().contains("19 packets: 19 correct, 0 NOT correct, 0 errors, 0 without reply"), run.stdout());
    assertTrue(run.stdout().contains("policy 111 served by workers {100=5, 300=5}"), run.stdout());
    assertTrue(run.stdout().contains("RESULT: OK"), run.stdout());
  }

  @Test
  void demoWithClusterTlsVerifiesEveryPacketOverMutualTls() throws Exception {
    Run run = java("demo", "--port", "0", "--cluster-tls", TestCerts.cluster().toString());
    assertEquals(0, run.exitCode(), run.stdout() + run.stderr());
    assertTrue(run.stdout().contains("19 packets: 19 correct, 0 NOT correct, 0 errors, 0 without reply"), run.stdout());
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
    Run run = java("client", "--port", Integer.toString(TestSockets.unusedPort()), "packets/0.json");
    assertEquals(1, run.exitCode(), run.stdout() + run.stderr());
    assertTrue(run.stdout().contains("error: cannot exchange packets with the proxy at 127.0.0.1:"), run.stdout());
  }

  @Test
  void badWorkerOptionIsAReadableErrorNotAStackTrace() throws Exception {
    Run run = java("worker", "--worker", "100");
    assertEquals(2, run.exitCode());
    assertTrue(run.stderr().contains("is not ID:POLICY"), run.stderr());
    assertTrue(!run.stderr().contains("\tat "), run.stderr());
  }
}
