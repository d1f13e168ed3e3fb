package revproxy.bench;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The first few problems of a run, as readable lines, from every load thread: enough to say what
 * went wrong without flooding the report when every request fails the same way.
 */
final class Problems {

  private static final int MAX_PROBLEMS = 5;
  private static final int MAX_SAMPLE_CHARS = 300;

  private final List<String> lines = Collections.synchronizedList(new ArrayList<>());

  /** Keeps {@code text}, cut to a readable length, if fewer than the first few are kept. */
  void add(String text) {
    if (lines.size() < MAX_PROBLEMS) {
      lines.add(
          text.length() > MAX_SAMPLE_CHARS ? text.substring(0, MAX_SAMPLE_CHARS) + "..." : text);
    }
  }

  /** Keeps {@code text} however many are kept: a problem of the run itself, not of a request. */
  void addAlways(String text) {
    lines.add(text);
  }

  List<String> list() {
    return List.copyOf(lines);
  }

  /** The reason an I/O call failed, in a few words. */
  static String describe(IOException e) {
    if (e instanceof ClosedChannelException) {
      return "channel closed";
    }
    return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
  }

  /** The start of a reply, for a problem line. */
  static String sample(byte[] bytes, int start, int end) {
    int length = Math.min(end - start, MAX_SAMPLE_CHARS);
    String text = new String(bytes, start, length, StandardCharsets.UTF_8);
    return end - start > length ? text + "..." : text;
  }
}
