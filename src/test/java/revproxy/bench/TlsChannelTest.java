package revproxy.bench;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLServerSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import revproxy.TestCerts;
import revproxy.tls.TlsDir;

/**
 * The load generator's TLS channel against a JDK TLS server, driven by a selector as the load
 * generator drives it: handshake, writes larger than the socket takes at once, reads into a buffer
 * smaller than what was decrypted, and the end of the stream.
 */
class TlsChannelTest {

  private SSLServerSocket server;
  private Thread serverThread;
  private Selector selector;
  private SocketChannel channel;

  @AfterEach
  void close() throws Exception {
    if (channel != null) {
      channel.close();
    }
    if (selector != null) {
      selector.close();
    }
    server.close();
    serverThread.join(5_000);
  }

  /** A TLS server of the cluster's CA that runs {@code session} on its one connection. */
  private InetSocketAddress serve(Session session) throws IOException {
    server =
        (SSLServerSocket)
            TestCerts.sslContext(TestCerts.cluster())
                .getServerSocketFactory()
                .createServerSocket(0, 1, InetAddress.getLoopbackAddress());
    serverThread =
        new Thread(
            () -> {
              try (Socket socket = server.accept()) {
                session.run(socket);
              } catch (IOException closed) {
                // the test is over
              }
            });
    serverThread.start();
    return (InetSocketAddress) server.getLocalSocketAddress();
  }

  private interface Session {
    void run(Socket socket) throws IOException;
  }

  /** Connects, with a small send buffer, and completes the handshake. */
  private TlsChannel connect(InetSocketAddress address, TlsDir dir) throws IOException {
    selector = Selector.open();
    channel = SocketChannel.open();
    channel.setOption(StandardSocketOptions.SO_SNDBUF, 4096);
    channel.connect(address);
    channel.configureBlocking(false);
    SelectionKey key = channel.register(selector, 0);
    TlsChannel tls = new TlsChannel(channel, dir.clientEngine("127.0.0.1", address.getPort()));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!tls.handshake(key)) {
      assertTrue(System.nanoTime() < deadline, "handshake timed out");
      selector.select(100);
      selector.selectedKeys().clear();
    }
    return tls;
  }

  @Test
  void whatIsWrittenInBigPiecesComesBackThroughASmallReadBuffer() throws Exception {
    InetSocketAddress address =
        serve(
            socket -> {
              InputStream in = socket.getInputStream();
              OutputStream out = socket.getOutputStream();
              byte[] buffer = new byte[8192];
              int n;
              while ((n = in.read(buffer)) > 0) {
                out.write(buffer, 0, n);
              }
            });
    TlsChannel tls = connect(address, TlsDir.load(TestCerts.cluster()));
    SelectionKey key = channel.keyFor(selector);
    byte[] sent = new byte[300_000];
    new Random(7).nextBytes(sent);
    ByteBuffer out = ByteBuffer.wrap(sent);
    ByteBuffer in = ByteBuffer.allocate(100);
    ByteArrayOutputStream received = new ByteArrayOutputStream();
    boolean sawPendingOutput = false;
    boolean sawBufferedInput = false;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (received.size() < sent.length) {
      assertTrue(System.nanoTime() < deadline, "received " + received.size());
      if (out.hasRemaining() || tls.hasPendingOutput()) {
        tls.write(out);
        sawPendingOutput |= tls.hasPendingOutput();
      }
      boolean writing = out.hasRemaining() || tls.hasPendingOutput();
      key.interestOps(SelectionKey.OP_READ | (writing ? SelectionKey.OP_WRITE : 0));
      selector.select(100);
      selector.selectedKeys().clear();
      int n;
      do {
        in.clear();
        n = tls.read(in);
        assertTrue(n >= 0, "closed after " + received.size() + " bytes");
        received.write(in.array(), 0, in.position());
        sawBufferedInput |= n > 0 && tls.hasBufferedInput();
      } while (n > 0 && tls.hasBufferedInput());
    }
    assertArrayEquals(sent, received.toByteArray());
    assertTrue(sawPendingOutput, "the socket took every write at once: nothing was tested");
    assertTrue(sawBufferedInput, "every read fit the buffer: nothing was tested");
  }

  @Test
  void theServersCloseIsTheEndOfTheStream() throws Exception {
    InetSocketAddress address =
        serve(socket -> socket.getOutputStream().write("bye".getBytes(US_ASCII)));
    TlsChannel tls = connect(address, TlsDir.load(TestCerts.cluster()));
    ByteBuffer in = ByteBuffer.allocate(100);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    int n;
    while ((n = tls.read(in)) >= 0) {
      assertTrue(System.nanoTime() < deadline, "no end of stream");
      if (n == 0) {
        selector.select(100);
        selector.selectedKeys().clear();
      }
    }
    assertEquals("bye", new String(in.array(), 0, in.position(), US_ASCII));
    assertEquals(-1, tls.read(in));
  }

  @Test
  void aServerCertificateOfAnotherCaFailsTheHandshake() throws Exception {
    InetSocketAddress address = serve(socket -> socket.getInputStream().read());
    assertThrows(
        SSLHandshakeException.class, () -> connect(address, TlsDir.load(TestCerts.otherCa())));
  }
}
