package revproxy.protocol;

import java.nio.ByteBuffer;

/**
 * Finds back-to-back top-level JSON objects in a byte stream: the one state machine behind {@link
 * PacketFraming} and the load generator's reply reader.
 *
 * <p>Rules:
 *
 * <ul>
 *   <li>Whitespace (space, tab, CR, LF) between objects is skipped silently.
 *   <li>Only braces outside strings decide where an object ends; strings and backslash escapes are
 *       tracked so braces and quotes inside strings do not count. Brackets are not counted: in
 *       well-formed JSON they cannot change where the matching '}' is, and for malformed input
 *       counting braces alone cuts the bad object off sooner so the next one frames cleanly.
 *   <li>Anything else between objects, including an unmatched '}', is garbage. A run of garbage
 *       ends at the next '{' or where the caller says a chunk ends ({@link #endOfChunk()}); its
 *       length spans from its first to its last non-whitespace byte.
 *   <li>An object longer than {@code maxObjectBytes}, counted from its '{', is {@link
 *       Event#TOO_LARGE}, found at the byte that breaks the limit; the scanner then stops.
 * </ul>
 *
 * <p>Plain, mutable and single-threaded, like Akka's {@code JsonObjectParser} under {@code
 * JsonFraming}, but it holds no bytes and allocates nothing: the caller keeps the buffer, and an
 * object is the {@link #objectLength()} bytes that end where {@link #next} stopped. So {@link
 * PacketFraming} can slice objects out of its {@code ByteString} chunks while the load generator
 * reads replies in place in one reused array. Each byte is looked at once, whatever the chunking.
 */
public final class JsonObjectScanner {

  /** Why {@link #next} stopped. */
  public enum Event {
    /** The byte just consumed closed an object of {@link #objectLength()} bytes. */
    OBJECT,
    /**
     * A garbage run ended at a '{', which is not consumed yet; {@link #garbageFirst()} and {@link
     * #garbageLength()} describe the run.
     */
    GARBAGE,
    /**
     * The byte just consumed made the object longer than the limit. From now on {@link #next}
     * returns this again and consumes nothing, until {@link #reset()}.
     */
    TOO_LARGE,
    /** Every byte up to the buffer's limit is consumed. */
    NEED_INPUT
  }

  private final int maxObjectBytes;

  /** Brace depth; 0 means between objects. */
  private int depth;

  private boolean inString;
  private boolean escaped;
  private boolean tooLarge;

  /** Bytes of the current object so far (or of the one just closed), from its '{'. */
  private int objectLength;

  /** The open garbage run's length to its last non-whitespace byte; 0 when none is open. */
  private int runLength;

  /** Whitespace after the open run's last non-whitespace byte: counted only if more follows. */
  private int runWhitespace;

  private byte runFirst;
  private int garbageLength;
  private byte garbageFirst;

  /** {@code maxObjectBytes}: the longest object accepted, '{' to '}' inclusive. */
  public JsonObjectScanner(int maxObjectBytes) {
    this.maxObjectBytes = maxObjectBytes;
  }

  /**
   * Scans {@code bytes} from its position towards its limit and stops at the first event, with the
   * position just past the last byte consumed. Call again until {@link Event#NEED_INPUT}.
   */
  public Event next(ByteBuffer bytes) {
    if (tooLarge) {
      return Event.TOO_LARGE;
    }
    int limit = bytes.limit();
    for (int p = bytes.position(); p < limit; p++) {
      byte b = bytes.get(p);
      if (depth == 0) {
        if (b == '{') {
          if (runLength > 0) {
            bytes.position(p);
            endRun();
            return Event.GARBAGE;
          }
          depth = 1;
          objectLength = 1;
        } else if (isWhitespace(b)) {
          runWhitespace++;
        } else if (runLength == 0) {
          runFirst = b;
          runLength = 1;
          runWhitespace = 0;
        } else {
          runLength += runWhitespace + 1;
          runWhitespace = 0;
        }
        continue;
      }
      if (++objectLength > maxObjectBytes) {
        tooLarge = true;
        bytes.position(p + 1);
        return Event.TOO_LARGE;
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
        bytes.position(p + 1);
        return Event.OBJECT;
      }
    }
    bytes.position(limit);
    return Event.NEED_INPUT;
  }

  /**
   * A chunk of input ends here: ends the open garbage run, if any, so that it is reported without
   * waiting for more bytes. Returns whether there was one ({@link #garbageFirst()} and {@link
   * #garbageLength()} then describe it).
   */
  public boolean endOfChunk() {
    if (runLength == 0) {
      return false;
    }
    endRun();
    return true;
  }

  /** Whether an object is open: started and neither closed nor too large yet. */
  public boolean inObject() {
    return depth > 0 && !tooLarge;
  }

  /** Bytes of the open object so far, or of the object {@link Event#OBJECT} just closed. */
  public int objectLength() {
    return objectLength;
  }

  /** The first byte of the garbage run last reported. */
  public byte garbageFirst() {
    return garbageFirst;
  }

  /** Bytes of the garbage run last reported, from its first to its last non-whitespace byte. */
  public int garbageLength() {
    return garbageLength;
  }

  /** Forgets everything, for a new stream. */
  public void reset() {
    depth = 0;
    inString = false;
    escaped = false;
    tooLarge = false;
    objectLength = 0;
    runLength = 0;
    runWhitespace = 0;
  }

  private void endRun() {
    garbageFirst = runFirst;
    garbageLength = runLength;
    runLength = 0;
  }

  private static boolean isWhitespace(byte b) {
    return b == ' ' || b == '\t' || b == '\r' || b == '\n';
  }
}
