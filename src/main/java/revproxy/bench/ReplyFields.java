package revproxy.bench;

import java.nio.charset.StandardCharsets;

/**
 * The fields of one reply object the generator checks ({@code type}, {@code destid}, {@code
 * payload}, {@code code}), located in place: no tree, no strings unless a value holds escapes. One
 * instance is reused for every reply of a thread.
 *
 * <p>{@link #parse} accepts any JSON object whose values are strings, numbers, literals or nested
 * values (skipped); it rejects what is not well-formed at the top level. Comparisons are exact:
 * {@link #isString(int, byte[])} compares the decoded value, so an escaped but equal value matches
 * and nothing else does.
 */
final class ReplyFields {

  static final int TYPE = 0;
  static final int DESTID = 1;
  static final int PAYLOAD = 2;
  static final int CODE = 3;

  private static final byte[][] NAMES = {
    ascii("type"), ascii("destid"), ascii("payload"), ascii("code")
  };

  private byte[] bytes;
  private final int[] start = new int[NAMES.length];
  private final int[] end = new int[NAMES.length];

  /** Whether a field is a JSON string (else a number or literal); -1 start = absent. */
  private final boolean[] quoted = new boolean[NAMES.length];

  private final boolean[] escapes = new boolean[NAMES.length];

  /** Reads {@code bytes[from, to)}, one JSON object; false if it is not well-formed. */
  boolean parse(byte[] bytes, int from, int to) {
    this.bytes = bytes;
    for (int f = 0; f < NAMES.length; f++) {
      start[f] = -1;
    }
    int i = skipWhitespace(from, to);
    if (i >= to || bytes[i] != '{') {
      return false;
    }
    i = skipWhitespace(i + 1, to);
    if (i < to && bytes[i] == '}') {
      return skipWhitespace(i + 1, to) == to;
    }
    while (i < to) {
      if (bytes[i] != '"') {
        return false;
      }
      int keyStart = i + 1;
      int keyEnd = stringEnd(keyStart, to);
      if (keyEnd < 0) {
        return false;
      }
      int field = field(keyStart, keyEnd);
      i = skipWhitespace(keyEnd + 1, to);
      if (i >= to || bytes[i] != ':') {
        return false;
      }
      i = skipWhitespace(i + 1, to);
      if (i >= to) {
        return false;
      }
      int valueStart = i;
      int valueEnd;
      boolean isString = bytes[i] == '"';
      if (isString) {
        valueEnd = stringEnd(i + 1, to);
        if (valueEnd < 0) {
          return false;
        }
        i = valueEnd + 1;
        valueStart++;
      } else if (bytes[i] == '{' || bytes[i] == '[') {
        i = nestedEnd(i, to);
        if (i < 0) {
          return false;
        }
        valueEnd = i;
      } else {
        while (i < to && bytes[i] != ',' && bytes[i] != '}' && !whitespace(bytes[i])) {
          i++;
        }
        valueEnd = i;
        if (valueEnd == valueStart) {
          return false;
        }
      }
      if (field >= 0) {
        start[field] = valueStart;
        end[field] = valueEnd;
        quoted[field] = isString;
        escapes[field] = isString && hasBackslash(valueStart, valueEnd);
      }
      i = skipWhitespace(i, to);
      if (i >= to) {
        return false;
      }
      if (bytes[i] == '}') {
        return skipWhitespace(i + 1, to) == to;
      }
      if (bytes[i] != ',') {
        return false;
      }
      i = skipWhitespace(i + 1, to);
    }
    return false;
  }

  /** The type as written, whether "2" or 2: {@code '2'}, or 0 if it is anything else. */
  char type() {
    int s = start[TYPE];
    if (s < 0) {
      return 0;
    }
    if (escapes[TYPE]) {
      String type = text(TYPE);
      return type.length() == 1 ? type.charAt(0) : 0;
    }
    return end[TYPE] - s == 1 ? (char) bytes[s] : 0;
  }

  /** Whether the field is a JSON string whose value equals {@code expected} (ASCII bytes). */
  boolean isString(int field, byte[] expected) {
    return isString(field, expected, 0, expected.length);
  }

  /** As {@link #isString(int, byte[])}, against {@code expected[from, to)}. */
  boolean isString(int field, byte[] expected, int from, int to) {
    int s = start[field];
    if (s < 0 || !quoted[field]) {
      return false;
    }
    if (escapes[field]) {
      return text(field).equals(new String(expected, from, to - from, StandardCharsets.UTF_8));
    }
    int length = end[field] - s;
    if (length != to - from) {
      return false;
    }
    for (int k = 0; k < length; k++) {
      if (bytes[s + k] != expected[from + k]) {
        return false;
      }
    }
    return true;
  }

  /** The field's value as text (decoded if a string), or null if absent: for reports only. */
  String text(int field) {
    int s = start[field];
    if (s < 0) {
      return null;
    }
    String raw = new String(bytes, s, end[field] - s, StandardCharsets.UTF_8);
    return quoted[field] && escapes[field] ? unescape(raw) : raw;
  }

  private int field(int keyStart, int keyEnd) {
    if (hasBackslash(keyStart, keyEnd)) {
      String key = unescape(new String(bytes, keyStart, keyEnd - keyStart, StandardCharsets.UTF_8));
      for (int f = 0; f < NAMES.length; f++) {
        if (key.equals(new String(NAMES[f], StandardCharsets.US_ASCII))) {
          return f;
        }
      }
      return -1;
    }
    int length = keyEnd - keyStart;
    for (int f = 0; f < NAMES.length; f++) {
      byte[] name = NAMES[f];
      if (name.length == length && regionEquals(keyStart, name)) {
        return f;
      }
    }
    return -1;
  }

  private boolean regionEquals(int from, byte[] expected) {
    for (int k = 0; k < expected.length; k++) {
      if (bytes[from + k] != expected[k]) {
        return false;
      }
    }
    return true;
  }

  /** Index of the closing quote of a string whose content starts at {@code i}, or -1. */
  private int stringEnd(int i, int to) {
    while (i < to) {
      byte c = bytes[i];
      if (c == '\\') {
        i += 2;
      } else if (c == '"') {
        return i;
      } else {
        i++;
      }
    }
    return -1;
  }

  /** Index just past the nested object or array opening at {@code i}, or -1. */
  private int nestedEnd(int i, int to) {
    int depth = 0;
    while (i < to) {
      byte c = bytes[i];
      if (c == '"') {
        i = stringEnd(i + 1, to);
        if (i < 0) {
          return -1;
        }
      } else if (c == '{' || c == '[') {
        depth++;
      } else if ((c == '}' || c == ']') && --depth == 0) {
        return i + 1;
      }
      i++;
    }
    return -1;
  }

  private boolean hasBackslash(int from, int to) {
    for (int k = from; k < to; k++) {
      if (bytes[k] == '\\') {
        return true;
      }
    }
    return false;
  }

  private int skipWhitespace(int i, int to) {
    while (i < to && whitespace(bytes[i])) {
      i++;
    }
    return i;
  }

  private static boolean whitespace(byte c) {
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
  }

  /** Decodes JSON string escapes; an invalid escape is kept as written (it cannot match). */
  static String unescape(String raw) {
    StringBuilder out = new StringBuilder(raw.length());
    for (int k = 0; k < raw.length(); k++) {
      char c = raw.charAt(k);
      if (c != '\\' || k + 1 >= raw.length()) {
        out.append(c);
        continue;
      }
      char e = raw.charAt(++k);
      switch (e) {
        case 'b' -> out.append('\b');
        case 'f' -> out.append('\f');
        case 'n' -> out.append('\n');
        case 'r' -> out.append('\r');
        case 't' -> out.append('\t');
        case 'u' -> {
          if (isHex(raw, k + 1)) {
            out.append((char) Integer.parseInt(raw.substring(k + 1, k + 5), 16));
            k += 4;
          } else {
            out.append("\\u");
          }
        }
        default -> out.append(e);
      }
    }
    return out.toString();
  }

  private static boolean isHex(String s, int from) {
    if (from + 4 > s.length()) {
      return false;
    }
    for (int k = from; k < from + 4; k++) {
      if (Character.digit(s.charAt(k), 16) < 0) {
        return false;
      }
    }
    return true;
  }

  static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
