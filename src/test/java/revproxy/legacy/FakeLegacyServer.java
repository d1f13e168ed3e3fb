package revproxy.legacy;

import akka.util.ByteString;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import revproxy.protocol.Decoded;
import revproxy.protocol.Packet;
import revproxy.protocol.PacketCodec;
import revproxy.protocol.PayloadHash;

/**
 * A stand-in for the tutorial's server.py: one connection at a time, one read = one message. It
 * records what each read held, and can be told to hang up on, or ignore, requests, or to answer
 * each with the same bytes.
 */
final class FakeLegacyServer implements AutoCloseable {

  enum Mode {
    ANSWER,
    /** ANSWER, each reply 5 ms after its request: requests sent together queue behind it. */
    SLOW_ANSWER,
    HANG_UP,
    IGNORE,
    FIXED_ANSWER
  }

  final String id;
  final int port;
  final List<String> reads = Collections.synchronizedList(new ArrayList<>());
  final AtomicInteger connections = new AtomicInteger();
  private final ServerSocket socket;
  private final Mode mode;
  private final String fixedAnswer;
  private final boolean concurrent;
  private final Thread thread;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final List<Thread> handlers = Collections.synchronizedList(new ArrayList<>());

  FakeLegacyServer(String id, int port, Mode mode) throws IOException {
    this(id, port, mode, false, null);
  }

  /** {@code concurrent}: serve each connection on its own thread (unlike the original). */
  FakeLegacyServer(String id, int port, Mode mode, boolean concurrent) throws IOException {
    this(id, port, mode, concurrent, null);
  }

  /** Answers every request with {@code answer}, whatever it asked. */
  FakeLegacyServer(String id, String answer) throws IOException {
    this(id, 0, Mode.FIXED_ANSWER, false, answer);
  }

  private FakeLegacyServer(String id, int port, Mode mode, boolean concurrent, String fixedAnswer)
      throws IOException {
    this.id = id;
    this.mode = mode;
    this.fixedAnswer = fixedAnswer;
    this.concurrent = concurrent;
    this.socket = new ServerSocket();
    // Tests bring a "restarted" server back on the same port at once.
    socket.setReuseAddress(true);
    socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
    this.port = socket.getLocalPort();
    this.thread = new Thread(this::serve, "fake-legacy-" + id);
    thread.setDaemon(true);
    thread.start();
  }

  private void serve() {
    while (!socket.isClosed()) {
      try {
        Socket connection = socket.accept();
        open.add(connection);
        connections.incrementAndGet();
        if (concurrent) {
          Thread handler = new Thread(() -> handle(connection), "fake-legacy-" + id + "-conn");
          handler.setDaemon(true);
          handlers.add(handler);
          handler.start();
        } else {
          handle(connection);
        }
      } catch (IOException closed) {
        // the server socket was closed: stop
      }
    }
  }

  private void handle(Socket socket) {
    try (Socket connection = socket) {
      InputStream in = connection.getInputStream();
      byte[] buffer = new byte[2048];
      int n;
      while ((n = in.read(buffer)) > 0) {
        String read = new String(buffer, 0, n, java.nio.charset.StandardCharsets.UTF_8);
        reads.add(read);
        if (mode == Mode.HANG_UP) {
          break;
        } else if (mode == Mode.ANSWER || mode == Mode.SLOW_ANSWER) {
          if (mode == Mode.SLOW_ANSWER) {
            Thread.sleep(5);
          }
          Packet.Request request =
              (Packet.Request)
                  ((Decoded.Ok) PacketCodec.decode(ByteString.fromString(read))).packet();
          connection
              .getOutputStream()
              .write(
                  PacketCodec.encode(
                          new Packet.Reply(
                              id, request.srcid(), PayloadHash.sha1Hex(request.payload())))
                      .toArray());
        } else if (mode == Mode.FIXED_ANSWER) {
          connection.getOutputStream().write(fixedAnswer.getBytes(StandardCharsets.UTF_8));
        }
      }
    } catch (IOException closed) {
      // the peer went away
    } catch (InterruptedException interrupted) {
      Thread.currentThread().interrupt();
    } finally {
      open.remove(socket);
    }
  }

  /**
   * Goes away like a crashed server: the port and every connection are closed, and only then does
   * this return. (Java closes a socket that another thread is blocked on only once that thread has
   * left it: without the joins, a test binding the port again could still find it taken.)
   */
  @Override
  public void close() throws IOException {
    socket.close();
    List<Thread> threads = new ArrayList<>(List.of(thread));
    synchronized (handlers) {
      threads.addAll(handlers);
    }
    long deadline = System.nanoTime() + 5_000_000_000L;
    try {
      for (Thread t : threads) {
        // Again each round: a connection accepted while the port was closing comes in late.
        while (t.isAlive() && System.nanoTime() < deadline) {
          for (Socket connection : open) {
            connection.close();
          }
          t.join(50);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
