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
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;

/**
 * Cuts a TCP byte stream into back-to-back top-level JSON objects.
 *
 * <p>Hand-written instead of Akka's {@code JsonFraming}, which in 2.6.21 checks the size limit
 * against the whole buffer rather than one object (akka/akka#31569), so a large chunk of small
 * objects is wrongly rejected.
 *
 * <p>Rules:
 *
 * <ul>
 *   <li>Whitespace (space, tab, CR, LF) between objects is skipped silently.
 *   <li>Only braces outside strings decide where an object ends; strings and backslash escapes are
 *       tracked so braces and quotes inside strings do not count. Brackets are not counted: in
 *       well-formed JSON they cannot change where the matching '}' is, and for malformed input
 *       counting braces alone cuts the bad object off sooner so the next one frames cleanly.
 *   <li>Anything else between objects, including an unmatched '}', is garbage. A run of garbage is
 *       reported as one {@link Frame.Garbage} when it ends: at the next '{' or at the end of the
 *       chunk it arrived in, whichever comes first. So a client that sends junk gets an answer
 *       without having to send more bytes, and a run split over chunks yields one frame per chunk.
 *       The reported byte count spans from the first to the last non-whitespace garbage byte.
 *   <li>An object longer than {@code maxObjectBytes} (counted from its '{') ends the output with
 *       {@link Frame.TooLarge}. The input is then drained, not cancelled: with a TCP binding that
 *       does not half-close, cancelling the read side would close the socket before the error reply
 *       written downstream is flushed.
 *   <li>With a packet timeout, an object not finished within it from its first byte ends the
 *       output with {@link Frame.Incomplete}, drained like {@link Frame.TooLarge}: a sender cannot
 *       hold the stage's buffer by sending an object slowly or never finishing it.
 *   <li>If upstream completes inside an object, a final {@link Frame.Garbage} says so.
 * </ul>
 *
 * <p>The scan state survives between chunks, so each byte is looked at once; complete objects are
 * slices of the incoming chunks, not copies. Memory is bounded by {@code maxObjectBytes} plus the
 * frames cut out of one chunk.
 */
public final class PacketFraming {

  private PacketFraming() {}

  /** A flow emitting one {@link Frame} per object, garbage run or limit breach, in stream order. */
  public static Flow<ByteString, Frame, NotUsed> flow(int maxObjectBytes) {
    return flow(maxObjectBytes, Duration.ZERO);
  }

  /**
   * As {@link #flow(int)}, and an object must be complete within {@code packetTimeout} of its
   * first byte ({@link Duration#ZERO}: no limit).
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
      /** Frames cut out of the last chunk that downstream has not pulled yet. */
      private final ArrayDeque<Frame> queue = new ArrayDeque<>();
      /** Bytes of the unfinished object received in earlier chunks. */
      private ByteString pending = ByteString.emptyByteString();
      /** Length of the unfinished object so far, including bytes of the current chunk. */
      private int objectLength;
      /** Brace depth; 0 means between objects. */
      private int depth;
      private boolean inString;
      private boolean escaped;
      /** Set once {@link Frame.TooLarge} is queued: from then on input is only drained. */
      private boolean overLimit;
      /** Whether the last scan started an object (which restarts the packet timer). */
      private boolean startedObject;

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
                if (!queue.isEmpty()) {
                  pushNext();
                } else if (!hasBeenPulled(in)) {
                  pull(in);
                }
              }
            });
      }

      private void onChunk(ByteString chunk) {
        if (overLimit) {
          pull(in);
          return;
        }
        startedObject = false;
        scan(chunk);
        if (overLimit) {
          pull(in);
        }
        restartPacketTimer();
        if (queue.isEmpty()) {
          pull(in);
        } else if (isAvailable(out)) {
          pushNext();
        }
      }

      private void onInputFinished() {
        cancelTimer(PACKET_TIMER);
        if (!overLimit && depth > 0) {
          queue.add(
              new Frame.Garbage(
                  "connection closed inside an unfinished JSON object ("
                      + objectLength
                      + " bytes)"));
        }
        if (queue.isEmpty()) {
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
        if (depth == 0 || overLimit) {
          cancelTimer(PACKET_TIMER);
        } else if (startedObject || !isTimerActive(PACKET_TIMER)) {
          scheduleOnce(PACKET_TIMER, packetTimeout);
        }
      }

      @Override
      public void onTimer(Object key) {
        if (overLimit || depth == 0) {
          return;
        }
        if (!queue.isEmpty() && !hasBeenPulled(in)) {
          // Frames wait for downstream, so this stage is not reading: the sender is not the one
          // being slow. Time it again once we read.
          scheduleOnce(PACKET_TIMER, packetTimeout);
          return;
        }
        queue.add(new Frame.Incomplete(packetTimeout));
        pending = ByteString.emptyByteString();
        overLimit = true;
        if (isAvailable(out)) {
          pushNext();
        }
      }

      /** Pushes one queued frame; once the queue is empty, ends whatever has nothing left. */
      private void pushNext() {
        push(out, queue.poll());
        if (!queue.isEmpty()) {
          return;
        }
        if (isClosed(in)) {
          completeStage();
        } else if (overLimit) {
          complete(out);
        }
      }

      /** Scans the chunk once, queueing every frame it completes, and keeps the unfinished tail. */
      private void scan(ByteString chunk) {
        int objectStart = depth > 0 ? 0 : -1;
        int garbageStart = -1;
        int garbageEnd = -1;
        byte garbageFirst = 0;
        int index = 0;
        for (ByteBuffer buffer : chunk.getByteBuffers()) {
          for (int p = buffer.position(); p < buffer.limit(); p++, index++) {
            byte b = buffer.get(p);
            if (depth == 0) {
              if (b == '{') {
                if (garbageStart >= 0) {
                  queue.add(garbage(garbageFirst, garbageEnd - garbageStart + 1));
                  garbageStart = -1;
                }
                depth = 1;
                objectStart = index;
                objectLength = 1;
                startedObject = true;
              } else if (!isWhitespace(b)) {
                if (garbageStart < 0) {
                  garbageStart = index;
                  garbageFirst = b;
                }
                garbageEnd = index;
              }
              continue;
            }
            if (++objectLength > maxObjectBytes) {
              queue.add(new Frame.TooLarge(maxObjectBytes));
              pending = ByteString.emptyByteString();
              overLimit = true;
              return;
            }
            if (inString) {
              if (escaped) {
                escaped = false;
              } else if (b == '\\') {
                escaped = true;
              } else if (b == '"') {
                inString = false;
              }
            } else if (b == '"') {
              inString = true;
            } else if (b == '{') {
              depth++;
            } else if (b == '}' && --depth == 0) {
              queue.add(new Frame.Json(pending.concat(chunk.slice(objectStart, index + 1))));
              pending = ByteString.emptyByteString();
            }
          }
        }
        if (garbageStart >= 0) {
          queue.add(garbage(garbageFirst, garbageEnd - garbageStart + 1));
        }
        if (depth > 0) {
          pending = pending.concat(chunk.drop(objectStart));
        }
      }
    }
  }

  private static final String PACKET_TIMER = "packet-timeout";

  private static boolean isWhitespace(byte b) {
    return b == ' ' || b == '\t' || b == '\r' || b == '\n';
  }

  private static Frame.Garbage garbage(byte first, int skipped) {
    String found =
        first > ' ' && first < 0x7F
            ? "'" + (char) first + "'"
            : String.format("0x%02X", first & 0xFF);
    String count = skipped == 1 ? "1 byte" : skipped + " bytes";
    return new Frame.Garbage("expected '{' but found " + found + " (" + count + " skipped)");
  }
}
