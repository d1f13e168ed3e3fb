package revproxy.bench;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;

/**
 * A connected non-blocking {@link SocketChannel} seen through TLS, for the load generator's
 * selector loop: {@link #handshake} first, then {@link #read} and {@link #write} plaintext the way
 * the channel's own methods do, never blocking.
 *
 * <p>Two things differ from a plain channel, and the caller must mind them. A write may take the
 * plaintext while the encrypted bytes are not all out yet: {@link #hasPendingOutput()} says so, and
 * another write (of nothing, if need be) once the channel is writable sends them. A read returns
 * what fits in the caller's buffer and may keep more already decrypted: {@link #hasBufferedInput()}
 * says so, and reading again gets it without waiting for the channel.
 */
final class TlsChannel {

  private static final ByteBuffer NOTHING = ByteBuffer.allocate(0);

  private final SocketChannel channel;
  private final SSLEngine engine;

  /** Encrypted bytes read, not yet decrypted (write mode). */
  private final ByteBuffer netIn;

  /** Encrypted bytes to send (read mode: between position and limit). */
  private final ByteBuffer netOut;

  /** Decrypted bytes not yet handed to the caller (write mode). */
  private final ByteBuffer appIn;

  /** The handshake is done. */
  private boolean established;

  /** The peer closed the connection (with or without a close_notify). */
  private boolean ended;

  TlsChannel(SocketChannel channel, SSLEngine engine) throws SSLException {
    this.channel = channel;
    this.engine = engine;
    int packet = engine.getSession().getPacketBufferSize();
    this.netIn = ByteBuffer.allocate(packet);
    this.netOut = ByteBuffer.allocate(packet).flip();
    this.appIn = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize());
    engine.beginHandshake();
  }

  /**
   * Advances the handshake as far as it goes without waiting, and sets {@code key}'s interest to
   * what it waits for. True once the handshake is done (the key is then left as it is).
   *
   * @throws IOException if the handshake failed or the peer closed the connection during it
   */
  boolean handshake(SelectionKey key) throws IOException {
    while (true) {
      if (!flush()) {
        key.interestOps(SelectionKey.OP_WRITE);
        return false;
      }
      switch (engine.getHandshakeStatus()) {
        case NEED_TASK -> runTasks();
        case NEED_WRAP -> wrap(NOTHING);
        case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
          if (!unwrap()) {
            key.interestOps(SelectionKey.OP_READ);
            return false;
          }
        }
        case FINISHED, NOT_HANDSHAKING -> {
          established = true;
          return true;
        }
      }
    }
  }

  /**
   * Reads plaintext into {@code dst}: the number of bytes put there, 0 if none came yet, -1 once
   * the peer has closed the connection and everything before was read.
   */
  int read(ByteBuffer dst) throws IOException {
    int total = 0;
    while (true) {
      if (appIn.position() > 0) {
        appIn.flip();
        int n = Math.min(appIn.remaining(), dst.remaining());
        dst.put(dst.position(), appIn, appIn.position(), n);
        dst.position(dst.position() + n);
        appIn.position(appIn.position() + n);
        appIn.compact();
        total += n;
        if (!dst.hasRemaining()) {
          return total;
        }
      }
      if (ended || engine.isInboundDone()) {
        return total > 0 ? total : -1;
      }
      if (!unwrap()) {
        return total;
      }
      // A post-handshake message (a TLS 1.3 session ticket or key update) may want an answer.
      if (engine.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_TASK) {
        runTasks();
      }
      if (engine.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_WRAP) {
        wrap(NOTHING);
        flush();
      }
    }
  }

  /**
   * Encrypts and sends plaintext from {@code src}; returns how many of its bytes were taken. Takes
   * none while earlier encrypted bytes are still waiting for the channel.
   */
  int write(ByteBuffer src) throws IOException {
    int taken = 0;
    while (flush() && src.hasRemaining()) {
      taken += wrap(src);
    }
    return taken;
  }

  /** Encrypted bytes are waiting for the channel to become writable. */
  boolean hasPendingOutput() {
    return netOut.hasRemaining();
  }

  /** Bytes are here already that a read would return without waiting for the channel. */
  boolean hasBufferedInput() {
    return appIn.position() > 0 || netIn.position() > 0;
  }

  /** Writes what is pending to the channel; true if nothing is left. */
  private boolean flush() throws IOException {
    while (netOut.hasRemaining()) {
      if (channel.write(netOut) == 0) {
        return false;
      }
    }
    return true;
  }

  /** Encrypts from {@code src} into netOut, which must be empty; returns the plaintext taken. */
  private int wrap(ByteBuffer src) throws IOException {
    netOut.clear();
    SSLEngineResult result = engine.wrap(src, netOut);
    netOut.flip();
    switch (result.getStatus()) {
      case OK -> {
        return result.bytesConsumed();
      }
      case CLOSED -> throw new EOFException("the TLS session is closed");
      default -> throw new SSLException("unexpected TLS wrap result " + result);
    }
  }

  /**
   * Decrypts one record into appIn, reading from the channel when a whole record is not there yet.
   * False when nothing could be decrypted without waiting for the channel, or the peer closed the
   * connection.
   */
  private boolean unwrap() throws IOException {
    while (true) {
      netIn.flip();
      SSLEngineResult result = engine.unwrap(netIn, appIn);
      netIn.compact();
      switch (result.getStatus()) {
        case OK -> {
          return true;
        }
        case CLOSED -> {
          if (!established) {
            throw new EOFException("the server ended the TLS session during the handshake");
          }
          return false;
        }
        case BUFFER_OVERFLOW -> {
          // appIn is full: the caller takes what it holds first.
          return false;
        }
        case BUFFER_UNDERFLOW -> {
          int n = channel.read(netIn);
          if (n < 0) {
            if (!established) {
              throw new EOFException("the server closed the connection during the TLS handshake");
            }
            ended = true;
            return false;
          }
          if (n == 0) {
            return false;
          }
        }
      }
    }
  }

  private void runTasks() {
    Runnable task;
    while ((task = engine.getDelegatedTask()) != null) {
      task.run();
    }
  }
}
