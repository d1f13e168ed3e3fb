package revproxy.proxy;

import static revproxy.util.Completions.SAME_THREAD;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Adapter;
import akka.actor.typed.javadsl.AskPattern;
import akka.japi.Pair;
import akka.stream.Attributes;
import akka.stream.FlowShape;
import akka.stream.Inlet;
import akka.stream.Outlet;
import akka.stream.stage.AbstractInHandler;
import akka.stream.stage.AbstractOutHandler;
import akka.stream.stage.AsyncCallback;
import akka.stream.stage.GraphStage;
import akka.stream.stage.GraphStageLogic;
import akka.stream.stage.TimerGraphStageLogic;
import java.net.InetSocketAddress;
import java.time.Duration;
import revproxy.legacy.LegacyRegistry;
import revproxy.ops.ProxyMetrics;
import revproxy.protocol.Decoded;
import revproxy.protocol.ErrorCode;
import revproxy.protocol.Frame;
import revproxy.protocol.Packet;
import revproxy.protocol.PacketCodec;
import scala.runtime.BoxedUnit;

/**
 * The stage of one client connection between its frames and its replies: decodes each frame, sends
 * a request to the {@link RouterActor} and a registration to the {@link LegacyRegistry}, and emits
 * the answers in request order (a frame that is no request gets its error packet in its place; an
 * accepted registration gets nothing, as in the original).
 *
 * <p>Up to {@code maxInFlight} frames are handled at once; then the stage stops pulling, and TCP
 * backpressure holds the client. Requests go to the router as {@code tell}s tagged with their place
 * in the connection, answered to this stage's own actor: no ask, temporary actor or scheduled
 * timeout per request. The router answers every request within {@code request-timeout}; should it
 * not ({@code askTimeout}, a safety net), the request gets a {@code timeout} error.
 */
final class RequestStage extends GraphStage<FlowShape<Frame, Packet>> {

  /** What a connection's stage needs to know. */
  record Context(
      ActorSystem<?> system,
      ActorRef<RouterActor.Command> router,
      ActorRef<LegacyRegistry.Command> legacyServers,
      int maxInFlight,
      Duration askTimeout,
      int maxRegistrations,
      ProxyMetrics metrics,
      InetSocketAddress peer,
      int clientPort) {}

  /** An answer that sends nothing: an accepted registration. */
  private static final Packet NOTHING = new Packet.Error(null, "", "");

  private final Inlet<Frame> in = Inlet.create("RequestStage.in");
  private final Outlet<Packet> out = Outlet.create("RequestStage.out");
  private final FlowShape<Frame, Packet> shape = FlowShape.of(in, out);
  private final Context context;

  RequestStage(Context context) {
    this.context = context;
  }

  @Override
  public FlowShape<Frame, Packet> shape() {
    return shape;
  }

  /** One frame's place in the connection: its request, and its answer once there. */
  private static final class Slot {
    long tag;
    long deadlineNanos;
    Packet.Request request;
    Packet answer;
  }

  @Override
  public GraphStageLogic createLogic(Attributes inheritedAttributes) {
    return new TimerGraphStageLogic(shape) {
      private final Slot[] ring = new Slot[context.maxInFlight()];

      /** The ring position of the oldest slot, and how many there are. */
      private int head;

      private int count;

      /** The tag of the oldest slot (tags count the frames of this connection). */
      private long headTag;

      private long nextTag;
      private int registrations;
      private boolean timerOn;
      private ActorRef<RouterActor.Reply> replyTo;
      private AsyncCallback<Pair<Long, Packet>> registered;

      {
        for (int i = 0; i < ring.length; i++) {
          ring[i] = new Slot();
        }
        setHandler(
            in,
            new AbstractInHandler() {
              @Override
              public void onPush() {
                onFrame(grab(in));
              }

              @Override
              public void onUpstreamFinish() {
                if (count == 0) {
                  completeStage();
                }
              }
            });
        setHandler(
            out,
            new AbstractOutHandler() {
              @Override
              public void onPull() {
                emit();
              }
            });
      }

      @Override
      public void preStart() {
        replyTo =
            Adapter.toTyped(
                getStageActor(
                        message -> {
                          if (message._2() instanceof RouterActor.Reply reply) {
                            onReply(reply);
                          }
                          return BoxedUnit.UNIT;
                        })
                    .ref());
        registered = createAsyncCallback(result -> answer(result.first(), result.second()));
        pull(in);
      }

      private void onFrame(Frame frame) {
        long tag = nextTag++;
        Slot slot = ring[(head + count) % ring.length];
        count++;
        slot.tag = tag;
        slot.deadlineNanos = System.nanoTime() + context.askTimeout().toNanos();
        slot.request = null;
        slot.answer = null;
        Decoded decoded = PacketCodec.decodeRequest(frame);
        if (decoded instanceof Decoded.Refused refused) {
          context.metrics().protocolError(refused.code().wire());
          slot.answer = refused.toError();
        } else if (((Decoded.Ok) decoded).packet() instanceof Packet.Registration registration) {
          register(tag, slot, registration);
        } else {
          // decodeRequest accepts requests and registrations, nothing else.
          Packet.Request request = (Packet.Request) ((Decoded.Ok) decoded).packet();
          slot.request = request;
          context
              .router()
              .tell(
                  new RouterActor.Route(
                      tag, request.srcid(), request.policyId(), request.payload(), replyTo));
        }
        if (!timerOn && slot.answer == null) {
          timerOn = true;
          scheduleOnce("ask-timeout", context.askTimeout());
        }
        emit();
      }

      /**
       * Hands a registration to the registry. An accepted one is answered with nothing; a refused
       * one with the error to send. At most {@code max-per-connection} are looked at.
       */
      private void register(long tag, Slot slot, Packet.Registration registration) {
        if (++registrations > context.maxRegistrations()) {
          context.metrics().registration(ErrorCode.REGISTRATION_REFUSED.wire());
          slot.answer =
              Packet.Error.of(
                  registration.serverId(),
                  ErrorCode.REGISTRATION_REFUSED,
                  "at most "
                      + context.maxRegistrations()
                      + " registrations per connection"
                      + " (revproxy.legacy.registration.max-per-connection)");
          return;
        }
        AskPattern.<LegacyRegistry.Command, LegacyRegistry.Result>ask(
                context.legacyServers(),
                replyTo ->
                    new LegacyRegistry.Register(
                        registration, context.peer().getAddress(), context.clientPort(), replyTo),
                context.askTimeout(),
                context.system().scheduler())
            .whenCompleteAsync(
                (result, failure) ->
                    registered.invoke(Pair.create(tag, toPacket(registration, result))),
                SAME_THREAD);
      }

      private void onReply(RouterActor.Reply reply) {
        Slot slot = slot(reply.tag());
        if (slot != null && slot.answer == null && slot.request != null) {
          answer(reply.tag(), toPacket(slot.request, reply));
        }
      }

      private void answer(long tag, Packet answer) {
        Slot slot = slot(tag);
        if (slot != null && slot.answer == null) {
          slot.answer = answer;
          emit();
        }
      }

      /** The slot of {@code tag}, or null if it is answered and gone already. */
      private Slot slot(long tag) {
        long offset = tag - headTag;
        if (offset < 0 || offset >= count) {
          return null;
        }
        return ring[(int) ((head + offset) % ring.length)];
      }

      /** Sends answered slots in order; pulls another frame while there is room. */
      private void emit() {
        while (count > 0 && ring[head].answer != null) {
          Packet answer = ring[head].answer;
          if (answer != NOTHING) {
            if (!isAvailable(out)) {
              break;
            }
            push(out, answer);
          }
          ring[head].answer = null;
          ring[head].request = null;
          head = (head + 1) % ring.length;
          count--;
          headTag++;
        }
        if (isClosed(in)) {
          if (count == 0) {
            completeStage();
          }
        } else if (count < ring.length && !hasBeenPulled(in)) {
          pull(in);
        }
      }

      @Override
      public void onTimer(Object key) {
        timerOn = false;
        long now = System.nanoTime();
        long nextDeadline = Long.MAX_VALUE;
        for (int i = 0; i < count; i++) {
          Slot slot = ring[(head + i) % ring.length];
          if (slot.answer != null) {
            continue;
          }
          if (now - slot.deadlineNanos >= 0) {
            slot.answer =
                slot.request != null
                    ? Packet.Error.of(
                        slot.request.srcid(), ErrorCode.TIMEOUT, "the router did not answer")
                    : Packet.Error.of(
                        null,
                        ErrorCode.REGISTRATION_REFUSED,
                        "the proxy could not register the server now; try again");
          } else {
            nextDeadline = Math.min(nextDeadline, slot.deadlineNanos);
          }
        }
        if (nextDeadline != Long.MAX_VALUE) {
          timerOn = true;
          scheduleOnce("ask-timeout", Duration.ofNanos(Math.max(1, nextDeadline - now)));
        }
        emit();
      }
    };
  }

  private static Packet toPacket(Packet.Request request, RouterActor.Reply answer) {
    if (answer instanceof RouterActor.Served served) {
      return new Packet.Reply(served.workerId(), request.srcid(), served.payloadHash());
    }
    RouterActor.Rejected rejected = (RouterActor.Rejected) answer;
    return Packet.Error.of(request.srcid(), rejected.code(), rejected.message());
  }

  private static Packet toPacket(Packet.Registration registration, LegacyRegistry.Result result) {
    if (result instanceof LegacyRegistry.Refused refused) {
      return Packet.Error.of(registration.serverId(), refused.code(), refused.message());
    } else if (result == LegacyRegistry.Accepted.INSTANCE) {
      return NOTHING;
    }
    return Packet.Error.of(
        registration.serverId(),
        ErrorCode.REGISTRATION_REFUSED,
        "the proxy could not register the server now; try again");
  }
}
