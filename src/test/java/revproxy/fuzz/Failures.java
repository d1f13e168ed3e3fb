package revproxy.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Collects failures over a whole corpus; reports the first few in full and all by kind. */
public final class Failures {
  private final String what;
  private final List<String> shown = new ArrayList<>();
  private final Map<String, Integer> byKind = new TreeMap<>();
  private int count;

  public Failures(String what) {
    this.what = what;
  }

  public synchronized void add(Input input, String problem) {
    count++;
    byKind.merge(input.kind().replaceAll("[0-9.]+", "#"), 1, Integer::sum);
    if (shown.size() < 12) {
      shown.add(printable(abbreviateLong(problem)) + "\n      " + input);
    }
  }

  public synchronized int count() {
    return count;
  }

  public synchronized void assertNone() {
    assertTrue(
        count == 0,
        () ->
            count
                + " "
                + what
                + " failure(s) with seed "
                + Corpus.SEED
                + " (rerun with -Dfuzz.seed="
                + Corpus.SEED
                + "); by generator "
                + byKind
                + "\n  - "
                + String.join("\n  - ", shown));
  }

  /** Non-ASCII and control characters as \\uXXXX, so reports survive any console. */
  public static String printable(String s) {
    StringBuilder out = new StringBuilder();
    for (char c : s.toCharArray()) {
      if (c >= 0x20 && c < 0x7F || c == '\n') {
        out.append(c);
      } else {
        out.append(String.format("\\u%04x", (int) c));
      }
    }
    return out.toString();
  }

  private static String abbreviateLong(String s) {
    return s.length() <= 600 ? s : s.substring(0, 600) + "...";
  }
}
