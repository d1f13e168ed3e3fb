package revproxy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * A port a node needs is taken: the command says which one in one line, and exits 1. Each test
 * holds the port with a ServerSocket, then runs the command as the jar would.
 */
class BusyPortsTest {

  private record Result(int exitCode, String err) {}

  private static Result run(String... args) {
    StringWriter err = new StringWriter();
    CommandLine commandLine = Main.commandLine();
    commandLine.setOut(new PrintWriter(new StringWriter(), true));
    commandLine.setErr(new PrintWriter(err, true));
    int exitCode = commandLine.execute(args);
    return new Result(exitCode, err.toString().replace(System.lineSeparator(), "\n"));
  }

  private static ServerSocket taken() throws IOException {
    return new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
  }

  @Test
  void aTakenClientPortIsOneLineAndExitOne() throws IOException {
    try (ServerSocket taken = taken()) {
      int port = taken.getLocalPort();
      Result result =
          run(
              "proxy",
              "--port",
              Integer.toString(port),
              "--cluster-port",
              Integer.toString(TestSockets.unusedPort()),
              "--management-port",
              Integer.toString(TestSockets.unusedPort()));
      assertEquals(
          new Result(1, "error: port " + port + " on 127.0.0.1 is already in use (client port)\n"),
          result);
    }
  }

  @Test
  void aTakenClusterPortIsOneLineAndExitOne() throws IOException {
    try (ServerSocket taken = taken()) {
      int port = taken.getLocalPort();
      Result result =
          run(
              "proxy",
              "--port",
              Integer.toString(TestSockets.unusedPort()),
              "--cluster-port",
              Integer.toString(port),
              "--management-port",
              Integer.toString(TestSockets.unusedPort()));
      assertEquals(
          new Result(1, "error: port " + port + " on 127.0.0.1 is already in use (cluster port)\n"),
          result);
    }
  }

  @Test
  void aTakenManagementPortIsOneLineAndExitOne() throws IOException {
    try (ServerSocket taken = taken()) {
      int port = taken.getLocalPort();
      Result result =
          run(
              "worker",
              "--worker",
              "100:111",
              "--seed",
              "127.0.0.1:" + TestSockets.unusedPort(),
              "--management-port",
              Integer.toString(port));
      assertEquals(
          new Result(
              1, "error: port " + port + " on 127.0.0.1 is already in use (management port)\n"),
          result);
    }
  }

  @Test
  void aTakenListenPortOfAServerIsOneLineAndExitOne() throws IOException {
    try (ServerSocket taken = taken()) {
      int port = taken.getLocalPort();
      Result result =
          run("server", "--id", "100", "--policy", "111", "--listen", Integer.toString(port));
      assertEquals(
          new Result(1, "error: port " + port + " on 127.0.0.1 is already in use (listen port)\n"),
          result);
    }
  }
}
