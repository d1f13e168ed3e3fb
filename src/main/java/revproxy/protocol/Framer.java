package revproxy.protocol;

import akka.util.ByteString;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;

/**
 * Cuts {@code ByteString} chunks into {@link Frame}s: {@link #offer} a chunk, then {@link #poll}
 * its frames. The {@link JsonObjectScanner} finds where objects and garbage runs end; this class
 * slices the objects out of the chunks (no copies) and words the other frames. No stream in it:
 * {@link PacketFraming}'s stage around it adds back-pressure and the packet timeout, and the legacy
 * mode's backend connections, which are not streams, use it directly.
 *
 * <p>Once an object is too large or timed out, the frames end with that one and later input is
 * ignored. Memory is bounded by the limit plus the frames cut out of one chunk.
 */
public final class Framer {

  private final int maxObjectBytes;
  private final JsonObjectScanner scanner;
  private final ArrayDeque<Frame> frames = new ArrayDeque<>();

  /** Bytes of the open object received in earlier chunks. */
  private ByteString pending = ByteString.emptyByteString();

  private boolean objectStartedInLastChunk;
  private boolean ended;

  public Framer(int maxObjectBytes) {
    this.maxObjectBytes = maxObjectBytes;
    this.scanner = new JsonObjectScanner(maxObjectBytes);
  }

  /** Scans one chunk, queueing every frame it completes, and keeps the open object's bytes. */
  public void offer(ByteString chunk) {
    if (ended) {
      return;
    }
    int bufferStart = 0;
    for (ByteBuffer buffer : chunk.getByteBuffers()) {
      int first = buffer.position();
      JsonObjectScanner.Event event;
      while ((event = scanner.next(buffer)) != JsonObjectScanner.Event.NEED_INPUT) {
        switch (event) {
          case OBJECT -> {
            int end = bufferStart + buffer.position() - first;
            int start = end - (scanner.objectLength() - pending.size());
            frames.add(new Frame.Json(pending.concat(chunk.slice(start, end))));
            pending = ByteString.emptyByteString();
          }
          case GARBAGE -> frames.add(garbage());
          case TOO_LARGE -> {
            end(new Frame.TooLarge(maxObjectBytes));
            return;
          }
        }
      }
      bufferStart += buffer.limit() - first;
    }
    if (scanner.endOfChunk()) {
      frames.add(garbage());
    }
    if (scanner.inObject()) {
      objectStartedInLastChunk = pending.isEmpty();
      int inChunk = scanner.objectLength() - pending.size();
      pending = pending.concat(chunk.drop(chunk.size() - inChunk));
    }
  }

  /** The open object was not finished within {@code timeout}: the frames end with that. */
  void timedOut(Duration timeout) {
    end(new Frame.Incomplete(timeout));
  }

  /** The input ended: an open object becomes a last {@link Frame.Garbage}. */
  void finish() {
    if (!ended && scanner.inObject()) {
      frames.add(
          new Frame.Garbage(
              "connection closed inside an unfinished JSON object ("
                  + scanner.objectLength()
                  + " bytes)"));
    }
  }

  /** The next frame, or null if there is none yet. */
  public Frame poll() {
    return frames.poll();
  }

  boolean hasFrames() {
    return !frames.isEmpty();
  }

  /** Whether an object is open, its start received but not its end. */
  boolean inObject() {
    return !ended && scanner.inObject();
  }

  /** Whether the open object, if any, began in the chunk offered last. */
  boolean objectStartedInLastChunk() {
    return objectStartedInLastChunk;
  }

  /** Whether a too-large or timed-out object ended the frames: input is only drained now. */
  boolean ended() {
    return ended;
  }

  private void end(Frame last) {
    frames.add(last);
    pending = ByteString.emptyByteString();
    ended = true;
  }

  private Frame.Garbage garbage() {
    byte first = scanner.garbageFirst();
    int skipped = scanner.garbageLength();
    String found =
        first > ' ' && first < 0x7F
            ? "'" + (char) first + "'"
            : String.format("0x%02X", first & 0xFF);
    String count = skipped == 1 ? "1 byte" : skipped + " bytes";
    return new Frame.Garbage("expected '{' but found " + found + " (" + count + " skipped)");
  }
}
