package revproxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compatibility with the ORIGINAL tutorial's scripts: re-creations of its {@code client.py} and
 * {@code server.py} (src/test/python) talk to our fat jar, unchanged.
 *
 * <p>Processes, all on 127.0.0.1 with free ports: the proxy, two legacy Python servers 100 and 300
 * (policy 111) that register with a type "1" packet, and one Akka worker node with worker 500 (same
 * policy). So policy 111 is one round robin over two legacy servers and one HashWorker. Each
 * process writes to target/compat-logs/; the original client's runs go to clients.log there.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LegacyCompatIT {

  private static final Path JAR = Path.of("target", "akka-reverse-proxy.jar");
  private static final Path CLIENT_PY = Path.of("src", "test", "python", "client.py");
  private static final Path SERVER_PY = Path.of("src", "test", "python", "server.py");
  private static final Path LOGS = Path.of("target", "compat-logs");
  private static final Path CLIENT_LOG = LOGS.resolve("clients.log");

  private static final String PYTHON = "python3";
  private static final String CORRECT = "Hash of payload is correct";
  private static final String NOT_CORRECT = "Hash of payload is not correct";

  /** The one line our client.py adds to the original's output. */
  private static final Pattern SERVED_BY = Pattern.compile("(?m)^Served by server (\\S+)\\s*$");

  private static final long READY_WAIT_MS = 60_000;
  private static final long CLIENT_RUN_TIMEOUT_S = 20;

  private static final List<Process> processes = new ArrayList<>();
  private static Process server300;
  private static int proxyPort;
  private static Path probePacket;
  private static int clientRuns;
  private static boolean pythonFound;

  @BeforeAll
  static void startProxyLegacyServersAndWorker() throws Exception {
    pythonFound = pythonAvailable();
    if (!pythonFound) {
      return; // each test is skipped, with the reason, by skipWithoutPython()
    }
    assertTrue(Files.isRegularFile(JAR), JAR + " is missing: run `mvn package` first");
    assertTrue(
        Files.isRegularFile(CLIENT_PY) && Files.isRegularFile(SERVER_PY),
        "the Python scripts are missing");

    Files.createDirectories(LOGS);
    Files.writeString(CLIENT_LOG, "");
    probePacket = LOGS.resolve("probe.json");
    Files.writeString(probePacket, packet("0", "probe"));

    int[] ports = freePorts(4);
    proxyPort = ports[0];
    int clusterPort = ports[1];
    int listen100 = ports[2];
    int listen300 = ports[3];

    Process proxy =
        start(
            "proxy.log",
            java("proxy", "--port", str(proxyPort), "--cluster-port", str(clusterPort)));
    awaitPort(proxy, proxyPort, READY_WAIT_MS);

    // The originals register before they listen: the proxy connects to them in the background.
    start(
        "server-100.log",
        List.of(
            PYTHON,
            SERVER_PY.toString(),
            "-id",
            "100",
            "-pp",
            "111",
            "-listen",
            str(listen100),
            "-revproc",
            str(proxyPort)));
    server300 =
        start(
            "server-300.log",
            List.of(
                PYTHON,
                SERVER_PY.toString(),
                "-id",
                "300",
                "-pp",
                "111",
                "-listen",
                str(listen300),
                "-revproc",
                str(proxyPort)));
    start(
        "worker-500.log",
        java("worker", "--worker", "500:111", "--seed", "127.0.0.1:" + clusterPort));

    awaitBackends(Set.of("100", "300", "500"), READY_WAIT_MS);
  }

  /** Skipped per test (not per class) so that the reports show the two skips and the reason. */
  @BeforeEach
  void skipWithoutPython() {
    Assumptions.assumeTrue(
        pythonFound,
        "python3 not found: skipping the compatibility test with the original scripts");
  }

  @AfterAll
  static void stopEverything() throws InterruptedException {
    for (int i = processes.size() - 1; i >= 0; i--) {
      processes.get(i).destroy();
    }
    for (Process process : processes) {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    }
    processes.clear();
  }

  @Test
  @Order(1)
  void originalClientGetsCorrectHashesFromAMixOfLegacyServersAndAkkaWorkers(@TempDir Path dir)
      throws Exception {
    Map<String, Integer> servedBy = new TreeMap<>();
    for (int n = 1; n <= 12; n++) {
      ClientRun run = runClient(n, writePacket(dir, n));
      run.assertCorrect();
      servedBy.merge(run.servedBy(), 1, Integer::sum);
    }
    for (String backend : List.of("100", "300", "500")) {
      assertTrue(
          servedBy.containsKey(backend),
          "backend " + backend + " never served; served by " + servedBy + "\n" + logTails());
    }
    assertEquals(
        Set.of("100", "300", "500"), servedBy.keySet(), "unexpected backends: " + servedBy);
  }

  @Test
  @Order(2)
  void killingALegacyServerMidRunLosesNoRequest(@TempDir Path dir) throws Exception {
    List<String> before = new ArrayList<>();
    List<String> after = new ArrayList<>();
    for (int n = 1; n <= 30; n++) {
      ClientRun run = runClient(100 + n, writePacket(dir, 100 + n));
      run.assertCorrect();
      (n <= 10 ? before : after).add(run.servedBy());
      if (n == 10) {
        assertTrue(before.contains("300"), "server 300 did not serve before the kill: " + before);
        server300.destroyForcibly();
        assertTrue(server300.waitFor(10, TimeUnit.SECONDS), "server 300 did not die");
        appendClientLog("---- legacy server 300 killed ----\n");
      }
    }
    // Server 300 is dead from request 11 on: a reply naming it could only be a stale one.
    assertFalse(
        after.contains("300"),
        "server 300 answered after it was killed: " + after + "\n" + logTails());
    assertTrue(
        after.contains("100") && after.contains("500"),
        "after the kill, 100 and 500 should share the requests: " + after);
  }

  // ---------------------------------------------------------------------------------------------

  record ClientRun(String packet, int exitCode, String output) {
    String servedBy() {
      Matcher matcher = SERVED_BY.matcher(output);
      return matcher.find() ? matcher.group(1) : null;
    }

    void assertCorrect() {
      String context =
          "original client on "
              + packet
              + " (exit "
              + exitCode
              + "):\n"
              + output
              + "\n"
              + logTails();
      assertEquals(0, exitCode, context);
      assertTrue(output.contains(CORRECT) && !output.contains(NOT_CORRECT), context);
      assertTrue(servedBy() != null, context);
    }
  }

  /** {@code python3 client.py -id ID -revproc PORT -pkt FILE}, bounded in time. */
  private static ClientRun runClient(int id, Path packetFile)
      throws IOException, InterruptedException {
    Path out = Files.createTempFile("compat-client", ".txt");
    try {
      ProcessBuilder builder =
          new ProcessBuilder(
                  PYTHON,
                  CLIENT_PY.toString(),
                  "-id",
                  str(id),
                  "-revproc",
                  str(proxyPort),
                  "-pkt",
                  packetFile.toString())
              .redirectErrorStream(true)
              .redirectOutput(out.toFile());
      Process process = builder.start();
      process.getOutputStream().close();
      int exit;
      if (process.waitFor(CLIENT_RUN_TIMEOUT_S, TimeUnit.SECONDS)) {
        exit = process.exitValue();
      } else {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
        exit = -1;
      }
      String output = Files.readString(out, StandardCharsets.UTF_8);
      if (exit == -1) {
        output += "\n[no answer within " + CLIENT_RUN_TIMEOUT_S + " s: client killed]";
      }
      appendClientLog(
          "---- run "
              + (++clientRuns)
              + ": -id "
              + id
              + " -pkt "
              + packetFile
              + " -> exit "
              + exit
              + "\n"
              + output);
      return new ClientRun(packetFile.toString(), exit, output);
    } finally {
      Files.deleteIfExists(out);
    }
  }

  /** Probes with the original client until every one of {@code expected} has answered. */
  private static void awaitBackends(Set<String> expected, long waitMs) throws Exception {
    Set<String> seen = new TreeSet<>();
    long deadline = System.currentTimeMillis() + waitMs;
    while (!seen.containsAll(expected)) {
      if (System.currentTimeMillis() > deadline) {
        fail(
            "within "
                + waitMs / 1000
                + " s only backends "
                + seen
                + " of "
                + expected
                + " answered\n"
                + logTails());
      }
      for (Process process : processes) {
        if (!process.isAlive()) {
          fail(
              "a process exited early ("
                  + process.info().commandLine().orElse("?")
                  + ")\n"
                  + logTails());
        }
      }
      ClientRun run = runClient(0, probePacket);
      if (run.exitCode() == 0 && run.output().contains(CORRECT) && run.servedBy() != null) {
        seen.add(run.servedBy());
      } else {
        Thread.sleep(250);
      }
    }
  }

  private static void awaitPort(Process owner, int port, long waitMs) throws InterruptedException {
    long deadline = System.currentTimeMillis() + waitMs;
    while (System.currentTimeMillis() < deadline) {
      if (!owner.isAlive()) {
        fail("the proxy exited with status " + owner.exitValue() + "\n" + logTails());
      }
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress("127.0.0.1", port), 500);
        return;
      } catch (IOException notYet) {
        Thread.sleep(200);
      }
    }
    fail(
        "the proxy did not listen on port "
            + port
            + " within "
            + waitMs / 1000
            + " s\n"
            + logTails());
  }

  private static Process start(String logName, List<String> command) throws IOException {
    File log = LOGS.resolve(logName).toFile();
    ProcessBuilder builder =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log);
    builder.environment().put("PYTHONUNBUFFERED", "1"); // the Python servers' prints reach the log
    Process process = builder.start();
    processes.add(process);
    process.getOutputStream().close();
    return process;
  }

  private static List<String> java(String... args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx256m");
    command.add("-jar");
    command.add(JAR.toString());
    command.addAll(List.of(args));
    return command;
  }

  private static boolean pythonAvailable() {
    try {
      Process process =
          new ProcessBuilder(PYTHON, "--version")
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        return false;
      }
      return process.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Distinct ports nothing listens on, below the ephemeral range (see TestSockets). */
  private static int[] freePorts(int count) throws IOException {
    int[] ports = new int[count];
    for (int i = 0; i < count; i++) {
      ports[i] = TestSockets.unusedPort();
    }
    return ports;
  }

  /** A policy-111 packet file in the shipped format. */
  private static Path writePacket(Path dir, int n) throws IOException {
    Path file = dir.resolve(n + ".json");
    Files.writeString(file, packet(str(n), "xyz" + n));
    return file;
  }

  private static String packet(String srcid, String payload) {
    return "{\"type\": \"0\", \"srcid\": \""
        + srcid
        + "\", \"privPoliId\": \"111\", \"payload\": \""
        + payload
        + "\"}";
  }

  private static void appendClientLog(String text) {
    try {
      Files.writeString(CLIENT_LOG, text, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The last lines of every process log, for failure messages. */
  private static String logTails() {
    StringBuilder out = new StringBuilder();
    for (String name : List.of("proxy.log", "server-100.log", "server-300.log", "worker-500.log")) {
      Path log = LOGS.resolve(name);
      if (!Files.isReadable(log)) {
        continue;
      }
      try {
        List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
        out.append("---- ").append(log).append(" (last 15 lines)\n");
        for (String line : lines.subList(Math.max(0, lines.size() - 15), lines.size())) {
          out.append(line).append('\n');
        }
      } catch (IOException | UncheckedIOException e) {
        out.append("---- ")
            .append(log)
            .append(": unreadable (")
            .append(e.getMessage())
            .append(")\n");
      }
    }
    return out.toString();
  }

  private static String str(int n) {
    return Integer.toString(n);
  }
}
