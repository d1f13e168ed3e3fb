package revproxy.bench;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import revproxy.protocol.PayloadHash;

/**
 * A stand-in for a proxy on a plain server socket (no Akka): every connection on its own thread,
 * each request answered with its correct type "2" reply. With {@code breakAfter > 0} it answers
 * that many requests of a connection, then reads one more and closes the connection instead of
 * answering it, so the generator sees a proxy going away with requests in flight.
 */
final class FakeProxy implements AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Requests answered, over all connections. */
  final AtomicInteger answered = new AtomicInteger();

  /** Connections this proxy closed with a request unanswered. */
  final AtomicInteger broken = new AtomicInteger();

  final AtomicInteger accepted = new AtomicInteger();
  private final ServerSocket server;
  private final int breakAfter;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();

  FakeProxy(int breakAfter) throws IOException {
    this.breakAfter = breakAfter;
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::accept, "fake-proxy-" + server.getLocalPort());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  String address() {
    return "127.0.0.1:" + server.getLocalPort();
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket socket = server.accept();
        accepted.incrementAndGet();
        open.add(socket);
        Thread handler = new Thread(() -> serve(socket), "fake-proxy-connection");
        handler.setDaemon(true);
        handler.start();
      } catch (IOException closed) {
        // the test closed the server
      }
    }
  }

  private void serve(Socket socket) {
    try (socket;
        JsonParser requests = JSON.getFactory().createParser(socket.getInputStream())) {
      OutputStream out = socket.getOutputStream();
      int index = 0;
      while (requests.nextToken() != null) {
        JsonNode request = JSON.readTree(requests);
        if (breakAfter > 0 && index++ == breakAfter) {
          broken.incrementAndGet();
          return;
        }
        String reply =
            "{\"type\": \"2\", \"srcid\": \"100\", \"destid\": \""
                + request.get("srcid").asText()
                + "\", \"payloadsize\": 40, \"payload\": \""
                + PayloadHash.sha1Hex(request.get("payload").asText())
                + "\"}";
        out.write(reply.getBytes(StandardCharsets.UTF_8));
        out.flush();
        answered.incrementAndGet();
      }
    } catch (IOException closed) {
      // the generator closed the connection, or the test closed the server
    } finally {
      open.remove(socket);
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    for (Socket socket : open) {
      socket.close();
    }
  }
}
