package revproxy.bench;

import static revproxy.bench.Problems.describe;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/**
 * A connection that is opened and then only watched (--idle-connections): it sends nothing and must
 * stay open. Whatever the server sends it is read and dropped. It is not reconnected: one that
 * fails to open or is closed later is counted as such.
 */
final class IdleConnection {

  private final SelectorLoop loop;
  private final InetSocketAddress target;
  private ConnectionState state = ConnectionState.WAITING;
  private SocketChannel channel;
  private TlsChannel tls;
  private long connectStarted;

  IdleConnection(SelectorLoop loop, InetSocketAddress target) {
    this.loop = loop;
    this.target = target;
  }

  void connect(long now) {
    state = ConnectionState.CONNECTING;
    connectStarted = now;
    loop.pendingConnects++;
    try {
      channel = SocketChannel.open();
      channel.configureBlocking(false);
      if (channel.connect(target)) {
        connected(channel.register(loop.selector, SelectionKey.OP_READ, this));
      } else {
        channel.register(loop.selector, SelectionKey.OP_CONNECT, this);
      }
    } catch (IOException e) {
      failed(describe(e));
    }
  }

  /** As for a load connection: open now, or with --tls once the handshake is done. */
  private void connected(SelectionKey key) throws IOException {
    if (loop.settings.tls().isPresent()) {
      tls = loop.tlsChannel(channel, target);
      handshake(key);
    } else {
      opened();
    }
  }

  private void handshake(SelectionKey key) throws IOException {
    if (tls.handshake(key)) {
      key.interestOps(SelectionKey.OP_READ);
      opened();
    }
  }

  private void opened() {
    loop.pendingConnects--;
    loop.unresolved--;
    loop.idleOpen++;
    state = ConnectionState.OPEN;
  }

  void onReady(SelectionKey key) {
    try {
      if (state == ConnectionState.CONNECTING && key.isConnectable()) {
        channel.finishConnect();
        key.interestOps(SelectionKey.OP_READ);
        connected(key);
      } else if (state == ConnectionState.CONNECTING && tls != null) {
        handshake(key);
      } else if (state == ConnectionState.OPEN && key.isReadable()) {
        loop.idleScratch.clear();
        int n = tls != null ? tls.read(loop.idleScratch) : channel.read(loop.idleScratch);
        if (n < 0) {
          loop.idleOpen--;
          loop.idleClosed++;
          problem("an idle connection was closed by the server");
          close();
        }
      }
    } catch (IOException e) {
      if (state == ConnectionState.OPEN) {
        loop.idleOpen--;
        loop.idleClosed++;
        problem("an idle connection failed: " + describe(e));
        close();
      } else {
        failed(describe(e));
      }
    }
  }

  /** Fails a connect that has taken longer than the connect timeout. */
  void checkConnectTimeout(long now) {
    if (state == ConnectionState.CONNECTING
        && now - connectStarted > loop.settings.connectTimeout().toNanos()) {
      failed("connect timed out after " + loop.settings.connectTimeout().toMillis() + " ms");
    }
  }

  private void failed(String reason) {
    if (state == ConnectionState.CONNECTING) {
      loop.pendingConnects--;
      loop.unresolved--;
      loop.idleFailed++;
      problem("idle connection to " + target + ": " + reason);
    }
    close();
  }

  private void problem(String text) {
    loop.problems.add(text);
  }

  void close() {
    state = ConnectionState.CLOSED;
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
