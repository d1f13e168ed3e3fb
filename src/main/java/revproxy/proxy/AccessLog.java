package revproxy.proxy;

import akka.NotUsed;
import akka.stream.javadsl.Flow;
import akka.util.ByteString;
import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import revproxy.protocol.ErrorCode;
import revproxy.protocol.Packet;
import revproxy.util.Completions;

/**
 * The access log ({@code revproxy.proxy.access-log}): one INFO line per closed client connection on
 * the logger {@value #LOGGER}, so that operators can send it to an appender of its own. The line is
 * logfmt, {@code peer=127.0.0.1:53422 duration_ms=1234 requests=19 replies=19 errors=9
 * bytes_in=1375 bytes_out=2090 end=client_closed}, where {@code end} is how it ended: {@code
 * client_closed}, {@code idle_timeout}, {@code shutdown} (drained), {@code packet_too_large},
 * {@code packet_timeout}, {@code too_many_connections} (closed by the proxy after that error),
 * {@code failed} (with {@code failure="..."}), or {@code closed}.
 */
final class AccessLog {

  static final String LOGGER = "revproxy.access";

  private static final Logger log = LoggerFactory.getLogger(LOGGER);

  /** Errors after which the proxy closes the connection: they are how it ended. */
  private static final Set<String> CLOSING =
      Set.of(
          ErrorCode.PACKET_TOO_LARGE.wire(),
          ErrorCode.PACKET_TIMEOUT.wire(),
          ErrorCode.TOO_MANY_CONNECTIONS.wire());

  private AccessLog() {}

  /**
   * What one connection did: counted by its stream's stages as it runs, logged once when it has
   * ended. The counters are atomic because the stages need not share a thread.
   */
  static final class Connection {
    private final InetSocketAddress peer;
    private final long startNanos = System.nanoTime();
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong replies = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private final AtomicLong bytesIn = new AtomicLong();
    private final AtomicLong bytesOut = new AtomicLong();
    private volatile String end;
    private volatile boolean clientClosed;

    Connection(InetSocketAddress peer) {
      this.peer = peer;
    }

    /** A packet (request, registration, or bytes that are none) came in. */
    void received() {
      requests.incrementAndGet();
    }

    void replied(Packet reply) {
      replies.incrementAndGet();
      if (reply instanceof Packet.Error error) {
        errors.incrementAndGet();
        if (CLOSING.contains(error.code())) {
          end = error.code();
        }
      }
    }

    /** The proxy stopped reading the connection: it was idle, or the proxy is draining. */
    void stopped(ClientConnections.Stop why) {
      end = why == ClientConnections.Stop.IDLE ? "idle_timeout" : "shutdown";
    }

    /** {@code connection} with its bytes counted and its line logged once it has ended. */
    Flow<ByteString, ByteString, NotUsed> around(Flow<ByteString, ByteString, NotUsed> connection) {
      return Flow.of(ByteString.class)
          .map(
              bytes -> {
                bytesIn.addAndGet(bytes.length());
                return bytes;
              })
          .watchTermination(
              (notUsed, input) -> {
                input.thenRunAsync(() -> clientClosed = true, Completions.SAME_THREAD);
                return notUsed;
              })
          .via(connection)
          .map(
              bytes -> {
                bytesOut.addAndGet(bytes.length());
                return bytes;
              })
          .watchTermination(
              (notUsed, done) -> {
                done.whenCompleteAsync(
                    (ok, failure) -> log.info(line(failure)), Completions.SAME_THREAD);
                return notUsed;
              });
    }

    String line(Throwable failure) {
      String how;
      if (failure != null) {
        how = "failed failure=\"" + Completions.rootMessage(failure).replace("\"", "'") + "\"";
      } else if (end != null) {
        how = end;
      } else {
        how = clientClosed ? "client_closed" : "closed";
      }
      return "peer="
          + peer.getAddress().getHostAddress()
          + ":"
          + peer.getPort()
          + " duration_ms="
          + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos)
          + " requests="
          + requests
          + " replies="
          + replies
          + " errors="
          + errors
          + " bytes_in="
          + bytesIn
          + " bytes_out="
          + bytesOut
          + " end="
          + how;
    }
  }
}
