package revproxy.legacy;

import static revproxy.util.Completions.SAME_THREAD;
import static revproxy.util.Completions.rootMessage;

import akka.Done;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.japi.Pair;
import akka.stream.BoundedSourceQueue;
import akka.stream.QueueOfferResult;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.stream.javadsl.Tcp;
import akka.util.ByteString;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import revproxy.protocol.Decoded;
import revproxy.protocol.Packet;
import revproxy.protocol.PacketCodec;
import revproxy.protocol.PacketFraming;
import revproxy.routee.Routee;

/**
 * One persistent TCP connection of a {@link LegacyBackend} to its legacy server, with at most one
 * request in flight (the original server breaks on two messages in one read).
 *
 * <p>The actor is the connection's identity: whatever its stream reports goes to this actor, and a
 * new connection is a new actor, so nothing about an old connection can be taken for a new one. It
 * tells its parent when it is {@link Ready} (connected, or done with a request), and stops when the
 * connection ends: closed by the server, failed, a reply later than {@code reply-timeout} (which
 * could otherwise be taken for the next request's), or data nobody asked for. The request in
 * flight, if any, is then refused so the router retries it elsewhere. It stops only once its stream
 * has ended, so no message of the stream outlives it.
 */
final class LegacyConnection extends AbstractBehavior<LegacyConnection.Command> {

  interface Command {}

  /**
   * Write this request, and end the connection if no reply comes within {@code replyTimeout}; the
   * parent sends one only after {@link LegacyBackend.Ready}.
   */
  record Send(Routee.Hash hash, Duration replyTimeout) implements Command {}

  private enum Connected implements Command {
    INSTANCE
  }

  private record ConnectFailed(String reason) implements Command {}

  private record Replied(Decoded reply) implements Command {}

  private record StreamEnded(String reason) implements Command {}

  private enum ReplyTimedOut implements Command {
    INSTANCE
  }

  static Behavior<Command> create(
      String serverId,
      String policyId,
      InetSocketAddress address,
      LegacySettings settings,
      ActorRef<LegacyBackend.Internal> parent) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers ->
                    new LegacyConnection(
                        context, timers, serverId, policyId, address, settings, parent)));
  }

  private final TimerScheduler<Command> timers;
  private final String serverId;
  private final String policyId;
  private final LegacySettings settings;
  private final ActorRef<LegacyBackend.Internal> parent;
  private final BoundedSourceQueue<ByteString> outbox;
  private boolean up;
  private boolean connectSettled;
  private boolean streamEnded;
  private Routee.Hash inFlight;
  private Duration replyTimeout;

  /** Why the connection ends, once it is ending; the stream's own end then stops the actor. */
  private String ending;

  private LegacyConnection(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      String serverId,
      String policyId,
      InetSocketAddress address,
      LegacySettings settings,
      ActorRef<LegacyBackend.Internal> parent) {
    super(context);
    this.timers = timers;
    this.serverId = serverId;
    this.policyId = policyId;
    this.settings = settings;
    this.parent = parent;
    // The stream's callbacks run on stream threads: they may use the ActorRef, never the context.
    ActorRef<Command> self = context.getSelf();
    Pair<
            Pair<BoundedSourceQueue<ByteString>, CompletionStage<Tcp.OutgoingConnection>>,
            CompletionStage<Done>>
        running =
            Source.<ByteString>queue(2)
                .viaMat(
                    Tcp.get(context.getSystem())
                        .outgoingConnection(
                            address,
                            Optional.empty(),
                            List.of(),
                            false,
                            Optional.of(settings.connectTimeout()),
                            Optional.empty()),
                    Keep.both())
                .via(PacketFraming.flow(settings.maxReplyBytes()))
                .map(PacketCodec::decode)
                .toMat(Sink.foreach(reply -> self.tell(new Replied(reply))), Keep.both())
                .run(context.getSystem());
    this.outbox = running.first().first();
    // Not pipeToSelf: its whenComplete on Akka's CompletionStage would start a thread per call.
    running
        .first()
        .second()
        .whenCompleteAsync(
            (connection, failure) ->
                self.tell(
                    connection != null
                        ? Connected.INSTANCE
                        : new ConnectFailed(rootMessage(failure))),
            SAME_THREAD);
    running
        .second()
        .whenCompleteAsync(
            (done, failure) ->
                self.tell(
                    new StreamEnded(
                        failure == null ? "closed by the server" : rootMessage(failure))),
            SAME_THREAD);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Send.class, this::onSend)
        .onMessageEquals(Connected.INSTANCE, this::onConnected)
        .onMessage(ConnectFailed.class, this::onConnectFailed)
        .onMessage(Replied.class, this::onReplied)
        .onMessageEquals(
            ReplyTimedOut.INSTANCE, () -> end("no reply within " + replyTimeout.toMillis() + " ms"))
        .onMessage(StreamEnded.class, this::onStreamEnded)
        .onSignal(PostStop.class, stop -> onPostStop())
        .build();
  }

  private Behavior<Command> onConnected() {
    connectSettled = true;
    if (ending == null) {
      up = true;
      parent.tell(new LegacyBackend.Ready(getContext().getSelf(), false));
    }
    return stopOnceEnded();
  }

  private Behavior<Command> onConnectFailed(ConnectFailed failed) {
    connectSettled = true;
    end(failed.reason());
    return stopOnceEnded();
  }

  private Behavior<Command> onSend(Send send) {
    if (ending != null || inFlight != null) {
      send.hash().refuse(serverId, ending != null ? ending : "connection busy");
      return this;
    }
    inFlight = send.hash();
    ByteString request =
        PacketCodec.encode(
            new Packet.Request(send.hash().srcid(), policyId, send.hash().payload()));
    if (outbox.offer(request) != QueueOfferResult.enqueued()) {
      return end("could not write the request");
    }
    timers.startSingleTimer(ReplyTimedOut.INSTANCE, send.replyTimeout());
    replyTimeout = send.replyTimeout();
    return this;
  }

  private Behavior<Command> onReplied(Replied replied) {
    if (ending != null) {
      return this;
    }
    if (inFlight == null) {
      return end("the server sent data nobody asked for");
    }
    timers.cancel(ReplyTimedOut.INSTANCE);
    Routee.Hash hash = inFlight;
    inFlight = null;
    String payloadHash =
        replied.reply() instanceof Decoded.Ok ok && ok.packet() instanceof Packet.Reply reply
            ? reply.payloadHash()
            : null;
    if (payloadHash != null) {
      hash.answer(serverId, payloadHash);
    } else {
      hash.refuse(serverId, "the server did not answer with a type \"2\" reply");
    }
    parent.tell(new LegacyBackend.Ready(getContext().getSelf(), payloadHash != null));
    return this;
  }

  /** Ends the connection: the request in flight goes back to the router; the stream is closed. */
  private Behavior<Command> end(String reason) {
    if (ending == null) {
      close(reason);
      parent.tell(new LegacyBackend.ConnectionDown(getContext().getSelf(), up, reason));
    }
    return this;
  }

  private void close(String reason) {
    ending = reason;
    timers.cancel(ReplyTimedOut.INSTANCE);
    if (inFlight != null) {
      inFlight.refuse(serverId, reason);
      inFlight = null;
    }
    try {
      outbox.fail(new IllegalStateException("connection closed by the proxy: " + reason));
    } catch (IllegalStateException streamAlreadyEnded) {
      // it failed or was closed by the server first: nothing left to close
    }
  }

  private Behavior<Command> onStreamEnded(StreamEnded ended) {
    streamEnded = true;
    end(ended.reason());
    return stopOnceEnded();
  }

  /**
   * Stops once both the connect and the stream have reported: a connect that fails ends the stream
   * too, in either order, and neither message may reach a stopped actor.
   */
  private Behavior<Command> stopOnceEnded() {
    return connectSettled && streamEnded ? Behaviors.stopped() : this;
  }

  private Behavior<Command> onPostStop() {
    // Stopped by the parent (its server was dropped, or it restarts): close the stream too. The
    // parent is stopping or knows already: it is not told.
    if (ending == null) {
      close("the proxy dropped the connection");
    }
    return this;
  }
}
