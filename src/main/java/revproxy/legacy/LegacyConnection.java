package revproxy.legacy;

import static revproxy.util.Completions.rootMessage;

import akka.actor.AbstractActorWithTimers;
import akka.actor.ActorRef;
import akka.actor.Props;
import akka.actor.Terminated;
import akka.actor.typed.javadsl.Adapter;
import akka.io.Tcp;
import akka.io.TcpMessage;
import akka.util.ByteString;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import revproxy.protocol.Decoded;
import revproxy.protocol.Frame;
import revproxy.protocol.Framer;
import revproxy.protocol.Packet;
import revproxy.protocol.PacketCodec;
import revproxy.routee.Routee;
import scala.concurrent.duration.FiniteDuration;

/**
 * One persistent TCP connection of a {@link LegacyBackend} to its legacy server, with at most one
 * request in flight (the original server breaks on two messages in one read).
 *
 * <p>The actor is the connection's identity: whatever akka-io reports about the connection goes to
 * this actor, and a new connection is a new actor, so nothing about an old connection can be taken
 * for a new one. It tells its parent when it is {@link LegacyBackend.Ready} (connected, or done
 * with a request), and stops when the connection ends: closed by the server, failed, a reply later
 * than {@code reply-timeout} (which could otherwise be taken for the next request's), a reply over
 * {@code max-reply-bytes}, or data nobody asked for. The request in flight, if any, is then refused
 * so the router retries it elsewhere. Once it has told its parent {@link
 * LegacyBackend.ConnectionDown}, it refuses whatever the parent still sends it until the parent
 * answers {@link Release}: a request sent in between is refused, not lost.
 *
 * <p>It is akka-io's connection handler itself, in push mode, not an Akka Streams {@code Tcp} flow:
 * with one request in flight there is nothing to back-pressure, and the stream cost four actor hops
 * and a socket read more per request (16x8: +19% req/s, -16% CPU per request; 64x1 unchanged;
 * docs/BENCHMARKS.md, "Legacy connections without a stream"). akka-io's API is classic, so this is
 * a classic actor, the child of a typed backend. The clients' side keeps the design's {@code Tcp}
 * binding.
 */
final class LegacyConnection extends AbstractActorWithTimers {

  interface Command {}

  /**
   * Write this request, and end the connection if no reply comes within {@code replyTimeout}; the
   * parent sends one only after {@link LegacyBackend.Ready}.
   */
  record Send(Routee.Hash hash, Duration replyTimeout) implements Command {}

  /** From the parent, once it has taken in {@link LegacyBackend.ConnectionDown}: stop. */
  enum Release implements Command {
    INSTANCE
  }

  private enum ReplyTimedOut {
    INSTANCE
  }

  /**
   * akka-io answers a connect by its own {@code connect-timeout}; this is the backstop in case it
   * never answers (its connection actor failed while opening the socket, for one).
   */
  private enum ConnectTimedOut {
    INSTANCE
  }

  /** Beyond {@code connect-timeout}: akka-io's own answer comes first whenever it comes. */
  private static final Duration CONNECT_BACKSTOP = Duration.ofSeconds(1);

  static Props props(
      String serverId,
      String policyId,
      InetSocketAddress address,
      LegacySettings settings,
      akka.actor.typed.ActorRef<LegacyBackend.Internal> parent) {
    return Props.create(
        LegacyConnection.class,
        () -> new LegacyConnection(serverId, policyId, address, settings, parent));
  }

  private final String serverId;
  private final String policyId;
  private final InetSocketAddress address;
  private final LegacySettings settings;
  private final akka.actor.typed.ActorRef<LegacyBackend.Internal> parent;
  private final akka.actor.typed.ActorRef<Command> self;
  private final Framer framer;

  /** akka-io's actor for this connection, once connected. */
  private ActorRef connection;

  /** akka-io has closed the connection, or its actor has stopped. */
  private boolean closed;

  private Routee.Hash inFlight;
  private Duration replyTimeout;

  /** Why the connection ends, once it is ending. */
  private String ending;

  private LegacyConnection(
      String serverId,
      String policyId,
      InetSocketAddress address,
      LegacySettings settings,
      akka.actor.typed.ActorRef<LegacyBackend.Internal> parent) {
    this.serverId = serverId;
    this.policyId = policyId;
    this.address = address;
    this.settings = settings;
    this.parent = parent;
    this.self = Adapter.toTyped(getSelf());
    this.framer = new Framer(settings.maxReplyBytes());
  }

  @Override
  public void preStart() {
    getTimers()
        .startSingleTimer(
            ConnectTimedOut.INSTANCE,
            ConnectTimedOut.INSTANCE,
            settings.connectTimeout().plus(CONNECT_BACKSTOP));
    Tcp.get(getContext().getSystem())
        .manager()
        .tell(
            TcpMessage.connect(
                address,
                null,
                List.of(),
                FiniteDuration.fromNanos(settings.connectTimeout().toNanos()),
                false),
            getSelf());
  }

  @Override
  public Receive createReceive() {
    return receiveBuilder()
        .match(Send.class, this::onSend)
        .match(Tcp.Connected.class, connected -> onConnected())
        .match(Tcp.Received.class, received -> onReceived(received.data()))
        .match(Tcp.CommandFailed.class, this::onCommandFailed)
        .match(Tcp.ConnectionClosed.class, this::onClosed)
        .match(
            Terminated.class,
            terminated -> {
              closed = true;
              end("the connection's actor stopped");
            })
        .matchEquals(
            ReplyTimedOut.INSTANCE,
            timedOut -> end("no reply within " + replyTimeout.toMillis() + " ms"))
        .matchEquals(
            ConnectTimedOut.INSTANCE,
            timedOut ->
                end(
                    "no answer to the connect within "
                        + settings.connectTimeout().toMillis()
                        + " ms"))
        .build();
  }

  private void onConnected() {
    getTimers().cancel(ConnectTimedOut.INSTANCE);
    connection = getSender();
    getContext().watch(connection);
    connection.tell(TcpMessage.register(getSelf()), getSelf());
    parent.tell(new LegacyBackend.Ready(self, false));
  }

  private void onSend(Send send) {
    if (ending != null || inFlight != null || connection == null) {
      send.hash().refuse(serverId, ending != null ? ending : "connection busy");
      return;
    }
    inFlight = send.hash();
    replyTimeout = send.replyTimeout();
    connection.tell(
        TcpMessage.write(
            PacketCodec.encode(
                new Packet.Request(send.hash().srcid(), policyId, send.hash().payload()))),
        getSelf());
    getTimers().startSingleTimer(ReplyTimedOut.INSTANCE, ReplyTimedOut.INSTANCE, replyTimeout);
  }

  private void onReceived(ByteString data) {
    if (ending != null) {
      return;
    }
    framer.offer(data);
    Frame frame;
    while (ending == null && (frame = framer.poll()) != null) {
      if (frame instanceof Frame.TooLarge) {
        // The framer drops all input after it: the connection is of no more use.
        end("the server's reply was over " + settings.maxReplyBytes() + " bytes");
      } else {
        onReply(PacketCodec.decode(frame));
      }
    }
  }

  private void onReply(Decoded reply) {
    if (inFlight == null) {
      end("the server sent data nobody asked for");
      return;
    }
    getTimers().cancel(ReplyTimedOut.INSTANCE);
    Routee.Hash hash = inFlight;
    inFlight = null;
    String payloadHash =
        reply instanceof Decoded.Ok ok && ok.packet() instanceof Packet.Reply packet
            ? packet.payloadHash()
            : null;
    if (payloadHash != null) {
      hash.answer(serverId, payloadHash);
    } else {
      hash.refuse(serverId, "the server did not answer with a type \"2\" reply");
    }
    parent.tell(new LegacyBackend.Ready(self, payloadHash != null));
  }

  private void onCommandFailed(Tcp.CommandFailed failed) {
    if (failed.cmd() instanceof Tcp.Connect) {
      end(
          failed.cause().isDefined()
              ? rootMessage(failed.cause().get())
              : "could not connect to " + address);
    } else {
      end("could not write the request");
    }
  }

  private void onClosed(Tcp.ConnectionClosed event) {
    closed = true;
    end(
        event.isPeerClosed()
            ? "closed by the server"
            : event.isErrorClosed() ? event.getErrorCause() : "connection closed");
  }

  /**
   * Ends the connection, once: the request in flight goes back to the router, the socket is closed
   * (reset), and the parent is told; from then on every request is refused until the parent's
   * {@link Release}.
   */
  private void end(String reason) {
    if (ending != null) {
      return;
    }
    release(reason);
    parent.tell(new LegacyBackend.ConnectionDown(self, connection != null, reason));
    awaitRelease();
  }

  private void awaitRelease() {
    getContext()
        .become(
            receiveBuilder()
                .match(Send.class, send -> send.hash().refuse(serverId, ending))
                .matchEquals(Release.INSTANCE, release -> getContext().stop(getSelf()))
                .matchAny(ignored -> {})
                .build());
  }

  /** The request in flight is refused with {@code reason}; the socket is reset. */
  private void release(String reason) {
    ending = reason;
    getTimers().cancel(ReplyTimedOut.INSTANCE);
    getTimers().cancel(ConnectTimedOut.INSTANCE);
    if (inFlight != null) {
      inFlight.refuse(serverId, reason);
      inFlight = null;
    }
    if (connection != null && !closed) {
      connection.tell(TcpMessage.abort(), getSelf());
    }
  }

  @Override
  public void postStop() {
    // Stopped by the parent (an idle connection closed, its server dropped, or the parent
    // restarting), or failed: close the socket too. The parent knows already, or is told by
    // postRestart.
    if (ending == null) {
      release("the proxy dropped the connection");
    }
  }

  /**
   * A failure restarts a classic child (the default strategy of its typed parent): the new instance
   * does not connect again on the same ref (the parent knows that one as connected); it tells the
   * parent the connection is down and waits for its release.
   */
  @Override
  public void postRestart(Throwable reason) {
    ending = "failed: " + rootMessage(reason);
    parent.tell(new LegacyBackend.ConnectionDown(self, true, ending));
    awaitRelease();
  }
}
