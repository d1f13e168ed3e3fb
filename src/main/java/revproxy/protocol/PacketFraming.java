package revproxy.protocol;

import akka.NotUsed;
import akka.stream.Attributes;
import akka.stream.FlowShape;
import akka.stream.Inlet;
import akka.stream.Outlet;
import akka.stream.javadsl.Flow;
import akka.stream.stage.AbstractInHandler;
import akka.stream.stage.AbstractOutHandler;
import akka.stream.stage.GraphStage;
import akka.stream.stage.GraphStageLogic;
import akka.stream.stage.TimerGraphStageLogic;
import akka.util.ByteString;
import java.time.Duration;

/**
 * Cuts a TCP byte stream into back-to-back top-level JSON objects: a thin stage over {@link
 * Framer}, whose {@link JsonObjectScanner} holds the rules (whitespace between objects skipped,
 * braces counted only outside strings, anything else between objects garbage, a size limit per
 * object).
 *
 * <p>Hand-written instead of Akka's {@code JsonFraming}, which in 2.6.21 checks the size limit
 * against the whole buffer rather than one object (akka/akka#31569), so a large chunk of small
 * objects is wrongly rejected.
 *
 * <p>Frames:
 *
 * <ul>
 *   <li>A complete object is a {@link Frame.Json}, a slice of the incoming chunks, not a copy.
 *   <li>A run of garbage is reported as one {@link Frame.Garbage} when it ends: at the next '{' or
 *       at the end of the chunk it arrived in, whichever comes first. So a client that sends junk
 *       gets an answer without having to send more bytes, and a run split over chunks yields one
 *       frame per chunk.
 *   <li>An object longer than {@code maxObjectBytes} (counted from its '{') ends the output with
 *       {@link Frame.TooLarge}. The input is then drained, not cancelled: with a TCP binding that
 *       does not half-close, cancelling the read side would close the socket before the error reply
 *       written downstream is flushed.
 *   <li>With a packet timeout, an object not finished within it from its first byte ends the output
 *       with {@link Frame.Incomplete}, drained like {@link Frame.TooLarge}: a sender cannot hold
 *       the stage's buffer by sending an object slowly or never finishing it.
 *   <li>If upstream completes inside an object, a final {@link Frame.Garbage} says so.
 * </ul>
 *
 * <p>Each chunk is scanned whole when it arrives, so memory is bounded by {@code maxObjectBytes}
 * plus the frames cut out of one chunk.
 */
public final class PacketFraming {

  private PacketFraming() {}

  /** A flow emitting one {@link Frame} per object, garbage run or limit breach, in stream order. */
  public static Flow<ByteString, Frame, NotUsed> flow(int maxObjectBytes) {
    return flow(maxObjectBytes, Duration.ZERO);
  }

  /**
   * As {@link #flow(int)}, and an object must be complete within {@code packetTimeout} of its first
   * byte ({@link Duration#ZERO}: no limit).
   */
  public static Flow<ByteString, Frame, NotUsed> flow(int maxObjectBytes, Duration packetTimeout) {
    if (maxObjectBytes < 2) {
      throw new IllegalArgumentException(
          "maxObjectBytes must allow at least '{}', got " + maxObjectBytes);
    }
    return Flow.fromGraph(new FramingStage(maxObjectBytes, packetTimeout));
  }

  private static final class FramingStage extends GraphStage<FlowShape<ByteString, Frame>> {
    private final Inlet<ByteString> in = Inlet.create("PacketFraming.in");
    private final Outlet<Frame> out = Outlet.create("PacketFraming.out");
    private final FlowShape<ByteString, Frame> shape = FlowShape.of(in, out);
    private final int maxObjectBytes;
    private final Duration packetTimeout;

    FramingStage(int maxObjectBytes, Duration packetTimeout) {
      this.maxObjectBytes = maxObjectBytes;
      this.packetTimeout = packetTimeout;
    }

    @Override
    public FlowShape<ByteString, Frame> shape() {
      return shape;
    }

    @Override
    public Attributes initialAttributes() {
      return Attributes.name("packetFraming");
    }

    @Override
    public GraphStageLogic createLogic(Attributes inheritedAttributes) {
      return new Logic();
    }

    private final class Logic extends TimerGraphStageLogic {
      private final Framer framer = new Framer(maxObjectBytes);

      Logic() {
        super(shape);
        setHandler(
            in,
            new AbstractInHandler() {
              @Override
              public void onPush() {
                onChunk(grab(in));
              }

              @Override
              public void onUpstreamFinish() {
                onInputFinished();
              }
            });
        setHandler(
            out,
            new AbstractOutHandler() {
              @Override
              public void onPull() {
                if (framer.hasFrames()) {
                  pushNext();
                } else if (!hasBeenPulled(in)) {
                  pull(in);
                }
              }
            });
      }

      private void onChunk(ByteString chunk) {
        if (framer.ended()) {
          pull(in);
          return;
        }
        framer.offer(chunk);
        if (framer.ended()) {
          pull(in);
        }
        restartPacketTimer();
        if (!framer.hasFrames()) {
          pull(in);
        } else if (isAvailable(out)) {
          pushNext();
        }
      }

      private void onInputFinished() {
        cancelTimer(PACKET_TIMER);
        framer.finish();
        if (!framer.hasFrames()) {
          completeStage();
        } else if (isAvailable(out)) {
          pushNext();
        }
      }

      /** The timer runs from the first byte of the unfinished object, if any. */
      private void restartPacketTimer() {
        if (packetTimeout.isZero()) {
          return;
        }
        if (!framer.inObject()) {
          cancelTimer(PACKET_TIMER);
        } else if (framer.objectStartedInLastChunk() || !isTimerActive(PACKET_TIMER)) {
          scheduleOnce(PACKET_TIMER, packetTimeout);
        }
      }

      @Override
      public void onTimer(Object key) {
        if (!framer.inObject()) {
          return;
        }
        if (framer.hasFrames() && !hasBeenPulled(in)) {
          // Frames wait for downstream, so this stage is not reading: the sender is not the one
          // being slow. Time it again once we read.
          scheduleOnce(PACKET_TIMER, packetTimeout);
          return;
        }
        framer.timedOut(packetTimeout);
        if (isAvailable(out)) {
          pushNext();
        }
      }

      /** Pushes one queued frame; once none is left, ends whatever has nothing left. */
      private void pushNext() {
        push(out, framer.poll());
        if (framer.hasFrames()) {
          return;
        }
        if (isClosed(in)) {
          completeStage();
        } else if (framer.ended()) {
          complete(out);
        }
      }
    }
  }

  private static final String PACKET_TIMER = "packet-timeout";
}
