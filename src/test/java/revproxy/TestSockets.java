package revproxy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/** Raw sockets for end-to-end tests: what a client on the wire sends and sees. */
public final class TestSockets {

  private static final ObjectMapper JSON = new ObjectMapper();

  private TestSockets() {}

  private static final Set<Integer> HANDED_OUT = new HashSet<>();

  /**
   * A loopback port that nothing listens on now, for a test that binds it later, binds it again
   * after closing it, or needs "connection refused". A port from {@code new ServerSocket(0)} will
   * not do: it lies in the kernel's ephemeral range, so any outgoing connection (or a reconnecting
   * client connecting to itself) can take it in between, and the later bind fails with "Address
   * already in use". This port lies below that range, where only an explicit bind can take it.
   */
  public static synchronized int unusedPort() throws IOException {
    int low = ephemeralRangeStart();
    if (low < 10_000) {
      low = 30_000; // an unusual range: fall back to a band most systems leave alone
    }
    int from = low - 8_000;
    for (int attempt = 0; attempt < 200; attempt++) {
      int port = ThreadLocalRandom.current().nextInt(from, low);
      if (HANDED_OUT.contains(port)) {
        continue;
      }
      try (ServerSocket probe = new ServerSocket()) {
        probe.setReuseAddress(true);
        probe.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        HANDED_OUT.add(port);
        return port;
      } catch (IOException taken) {
        // in use by something else: try another
      }
    }
    throw new IOException("no unused port found below " + low);
  }

  /** The first port of Linux's ephemeral range (32768 when it cannot be read). */
  private static int ephemeralRangeStart() {
    try {
      String range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim();
      return Integer.parseInt(range.split("\\s+")[0]);
    } catch (IOException | RuntimeException unreadable) {
      return 32768;
    }
  }

  /** A connection whose reads give up after 10 s, so a test cannot hang. */
  public static Socket connect(InetSocketAddress address) throws IOException {
    Socket socket = new Socket(address.getAddress(), address.getPort());
    socket.setSoTimeout(10_000);
    return socket;
  }

  /** A type "0" request in the original's json.dumps format. */
  public static String request(String srcid, String policy, String payload) {
    return "{\"type\": \"0\", \"srcid\": \""
        + srcid
        + "\", \"privPoliId\": \""
        + policy
        + "\", \"payload\": \""
        + payload
        + "\"}";
  }

  /** Every back-to-back JSON object the stream delivers until it is closed. */
  public static List<JsonNode> readAll(InputStream in) throws IOException {
    List<JsonNode> replies = new ArrayList<>();
    try (MappingIterator<JsonNode> it = JSON.readerFor(JsonNode.class).readValues(in)) {
      while (it.hasNextValue()) {
        replies.add(it.nextValue());
      }
    }
    return replies;
  }

  /**
   * Sends {@code requests} in one go from another thread, so replies flow back while requests are
   * still being sent, then half-closes; returns every reply until the other side closes.
   */
  public static List<JsonNode> pipeline(Socket socket, String requests)
      throws IOException, InterruptedException {
    byte[] bytes = requests.getBytes(StandardCharsets.UTF_8);
    Thread writer =
        new Thread(
            () -> {
              try {
                OutputStream out = socket.getOutputStream();
                out.write(bytes);
                out.flush();
                socket.shutdownOutput();
              } catch (IOException e) {
                throw new RuntimeException(e);
              }
            });
    writer.start();
    List<JsonNode> replies = readAll(socket.getInputStream());
    writer.join(10_000);
    return replies;
  }
}
