package revproxy.fuzz;

import java.util.ArrayList;
import java.util.List;

/**
 * The framing rules of {@code PacketFraming} restated on a whole byte array: the oracle the fuzz
 * tests check the stage (and the proxy) against.
 *
 * <p>Written apart from {@code JsonObjectScanner} on purpose, and it must stay so: an oracle that
 * called the code it checks would agree with any bug in it. It answers each question from the whole
 * array, where the scanner keeps its state across chunks.
 */
public final class FramingOracle {
  public static final int UNFINISHED = -1;
  public static final int OVER_LIMIT = -2;

  private FramingOracle() {}

  public static boolean isWhitespace(byte b) {
    return b == ' ' || b == '\t' || b == '\r' || b == '\n';
  }

  /** The index of the first '{' at or after {@code from}, or -1: where the next object starts. */
  public static int openingBrace(byte[] s, int from) {
    for (int i = from; i < s.length; i++) {
      if (s[i] == '{') {
        return i;
      }
    }
    return -1;
  }

  /**
   * The index of the '}' closing the object whose '{' is at {@code open} (braces outside strings,
   * strings with backslash escapes), or {@link #UNFINISHED} if the bytes end first, or {@link
   * #OVER_LIMIT} if the object would be longer than {@code limit} bytes.
   */
  public static int closingBrace(byte[] s, int open, int limit) {
    int depth = 0;
    boolean inString = false;
    boolean escaped = false;
    for (int i = open; i < s.length; i++) {
      if (i - open + 1 > limit) {
        return OVER_LIMIT;
      }
      byte b = s[i];
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
        return i;
      }
    }
    return UNFINISHED;
  }

  /** The Garbage reason for one chunk piece [from, to) of a gap, if it holds non-whitespace. */
  public static List<String> garbageReasons(byte[] s, int from, int to) {
    int first = -1;
    int last = -1;
    for (int i = from; i < to; i++) {
      if (!isWhitespace(s[i])) {
        if (first < 0) {
          first = i;
        }
        last = i;
      }
    }
    if (first < 0) {
      return List.of();
    }
    int count = last - first + 1;
    return List.of(
        "expected '{' but found "
            + shown(s[first])
            + " ("
            + (count == 1 ? "1 byte" : count + " bytes")
            + " skipped)");
  }

  public static String shown(byte b) {
    return b > ' ' && b < 0x7F ? "'" + (char) b + "'" : String.format("0x%02X", b & 0xFF);
  }

  /** What one input cuts into when it arrives whole: objects, garbage runs and how it ends. */
  public sealed interface Segment {}

  /** A run between objects, [from, to), with at least one non-whitespace byte. */
  public record Garbage(int from, int to) implements Segment {}

  /** A complete object, [from, to). */
  public record Json(int from, int to) implements Segment {}

  /** An object started at {@code from} and not finished when the bytes end. */
  public record Unfinished(int from, int length) implements Segment {}

  /** An object started at {@code from} grows past the limit; nothing after it is framed. */
  public record TooLarge(int from) implements Segment {}

  public static List<Segment> segments(byte[] s, int limit) {
    List<Segment> out = new ArrayList<>();
    int at = 0;
    while (at < s.length) {
      int brace = openingBrace(s, at);
      int gapEnd = brace < 0 ? s.length : brace;
      if (!garbageReasons(s, at, gapEnd).isEmpty()) {
        out.add(new Garbage(at, gapEnd));
      }
      if (brace < 0) {
        break;
      }
      int end = closingBrace(s, brace, limit);
      if (end == OVER_LIMIT) {
        out.add(new TooLarge(brace));
        break;
      } else if (end == UNFINISHED) {
        out.add(new Unfinished(brace, s.length - brace));
        break;
      }
      out.add(new Json(brace, end + 1));
      at = end + 1;
    }
    return out;
  }

  /** Whether, after these bytes, the next byte would start a new object (no object left open). */
  public static boolean closed(List<Segment> segments) {
    return segments.isEmpty()
        || !(segments.get(segments.size() - 1) instanceof Unfinished
            || segments.get(segments.size() - 1) instanceof TooLarge);
  }
}
