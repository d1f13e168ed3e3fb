package revproxy.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;

/**
 * The socket of one load connection, plain or through TLS ({@code --tls}), registered with its
 * loop's selector: it connects without blocking, reads, and writes with write interest only while
 * output is left over, so that the loop wakes for writing only when it has to.
 */
final class LoadSocket {

  private SocketChannel channel;

  /** The channel through TLS, once TCP is connected with --tls; else null. */
  private TlsChannel tls;

  private SelectionKey key;
  private boolean writeInterest;

  /** Starts connecting to {@code target}; whether TCP is connected at once. */
  boolean connect(InetSocketAddress target, Selector selector, Object attachment)
      throws IOException {
    writeInterest = false;
    channel = SocketChannel.open();
    channel.configureBlocking(false);
    channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
    if (channel.connect(target)) {
      key = channel.register(selector, SelectionKey.OP_READ, attachment);
      return true;
    }
    key = channel.register(selector, SelectionKey.OP_CONNECT, attachment);
    return false;
  }

  /** The selector says the connect is done (or failed: then this throws). */
  void finishConnect() throws IOException {
    channel.finishConnect();
    key.interestOps(SelectionKey.OP_READ);
  }

  SocketChannel channel() {
    return channel;
  }

  /** TCP is connected: from now on bytes go through {@code tls}. */
  void startTls(TlsChannel tls) {
    this.tls = tls;
  }

  boolean isTls() {
    return tls != null;
  }

  /** One step of the TLS handshake; whether it is done (then the socket reads). */
  boolean handshake() throws IOException {
    if (tls.handshake(key)) {
      key.interestOps(SelectionKey.OP_READ);
      return true;
    }
    return false;
  }

  /** Reads into {@code into}; -1 at the end of the stream. */
  int read(ByteBuffer into) throws IOException {
    return tls != null ? tls.read(into) : channel.read(into);
  }

  /** TLS holds decrypted bytes that did not fit into the last read. */
  boolean hasBufferedInput() {
    return tls != null && tls.hasBufferedInput();
  }

  /** TLS holds encrypted bytes not written yet. */
  boolean hasPendingOutput() {
    return tls != null && tls.hasPendingOutput();
  }

  /** The selector says it is writable: no write interest until output is left over again. */
  void writable() {
    writeInterest = false;
    key.interestOps(SelectionKey.OP_READ);
  }

  /**
   * Writes what {@code out} holds, keeping what the socket did not take, and sets write interest.
   */
  void write(ByteBuffer out) throws IOException {
    out.flip();
    if (tls != null) {
      tls.write(out);
    } else {
      channel.write(out);
    }
    out.compact();
    boolean pending = out.position() > 0 || hasPendingOutput();
    if (pending != writeInterest) {
      writeInterest = pending;
      key.interestOps(
          pending ? SelectionKey.OP_READ | SelectionKey.OP_WRITE : SelectionKey.OP_READ);
    }
  }

  void close() {
    if (key != null) {
      key.cancel();
      key = null;
    }
    tls = null;
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException ignored) {
        // closing anyway
      }
      channel = null;
    }
  }
}
