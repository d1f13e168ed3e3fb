package revproxy.protocol;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

/**
 * Reads the packets clients really send, without Jackson: one JSON object whose members are all
 * plain strings (printable ASCII, no escapes) or integers, with JSON whitespace around the tokens.
 * That is every packet of the original tutorial and of our own client, bench and servers.
 *
 * <p>It either reads the whole object into the {@link PacketFields} or says it cannot, and then
 * {@link PacketCodec} reads the bytes again with Jackson, from scratch. So it needs no error
 * messages of its own: anything else (an escape, a byte outside printable ASCII, a nested value,
 * {@code null}, {@code true}, a decimal or a long number, an object over {@link #MAX_BYTES}, a
 * duplicate key, a number where only a string will do, malformed JSON of any kind) is Jackson's to
 * accept or refuse, in Jackson's words. The result is the same either way ({@code
 * PlainObjectReaderTest} checks that), with one exception: Jackson refuses an object of hundreds of
 * keys that collide in its table of field names, as a suspected hash-flooding attack, and this
 * reader, which has no such table, takes it. Measured gain: docs/BENCHMARKS.md, "The request
 * decoder without Jackson".
 *
 * <p>Plain, stateless and allocation-light: one {@code String} per value, and per key only for keys
 * that are not a packet's.
 */
final class PlainObjectReader {

  /** Longer integers go to Jackson (its own limit on a number's length is 1000 digits). */
  static final int MAX_DIGITS = 19;

  /**
   * Larger objects go to Jackson: far above any real packet, and far below Jackson's own limits on
   * a name (50,000 bytes) and a string (20 million characters), which a larger {@code
   * max-packet-bytes} would let a packet reach.
   */
  static final int MAX_BYTES = 16 * 1024;

  private PlainObjectReader() {}

  /**
   * Reads {@code json} into {@code fields}: true if it was read whole, false if Jackson must read
   * it (then {@code fields} holds part of it and must not be used).
   */
  static boolean read(byte[] json, PacketFields fields) {
    int n = json.length;
    if (n > MAX_BYTES) {
      return false;
    }
    int i = skipWhitespace(json, 0);
    if (i >= n || json[i] != '{') {
      return false;
    }
    i = skipWhitespace(json, i + 1);
    if (i < n && json[i] == '}') {
      return skipWhitespace(json, i + 1) == n;
    }
    while (true) {
      // A key.
      if (i >= n || json[i] != '"') {
        return false;
      }
      int keyEnd = stringEnd(json, i + 1);
      if (keyEnd < 0) {
        return false;
      }
      int known = PacketFields.knownIndex(json, i + 1, keyEnd - i - 1);
      String name = known >= 0 ? null : new String(json, i + 1, keyEnd - i - 1, ISO_8859_1);
      i = skipWhitespace(json, keyEnd + 1);
      if (i >= n || json[i] != ':') {
        return false;
      }
      i = skipWhitespace(json, i + 1);
      if (i >= n) {
        return false;
      }
      // Its value: a plain string or an integer.
      String value;
      boolean number;
      if (json[i] == '"') {
        int valueEnd = stringEnd(json, i + 1);
        if (valueEnd < 0) {
          return false;
        }
        value = new String(json, i + 1, valueEnd - i - 1, ISO_8859_1);
        number = false;
        i = valueEnd + 1;
      } else {
        int numberEnd = integerEnd(json, i);
        if (numberEnd < 0) {
          return false;
        }
        value = new String(json, i, numberEnd - i, ISO_8859_1);
        number = true;
        i = numberEnd;
      }
      if (!(known >= 0 ? fields.plain(known, value, number) : fields.unknown(name))) {
        return false;
      }
      // A comma and the next member, or the end of the object and nothing but whitespace.
      i = skipWhitespace(json, i);
      if (i >= n) {
        return false;
      }
      if (json[i] == '}') {
        return skipWhitespace(json, i + 1) == n;
      }
      if (json[i] != ',') {
        return false;
      }
      i = skipWhitespace(json, i + 1);
    }
  }

  /**
   * The index of the quote that closes a string whose first character is at {@code from}, or -1 if
   * the string has an escape, a control character (below 0x20) or a byte above 0x7f, or does not
   * end. (0x7f is taken: JSON allows it raw, and so does Jackson.)
   */
  private static int stringEnd(byte[] json, int from) {
    for (int i = from; i < json.length; i++) {
      byte b = json[i];
      if (b == '"') {
        return i;
      }
      // As a signed byte, 0x80-0xff is negative: UTF-8, left to Jackson and Utf8.isValid.
      if (b == '\\' || b < 0x20) {
        return -1;
      }
    }
    return -1;
  }

  /**
   * The index just past a JSON integer ({@code -?(0|[1-9][0-9]*)}, at most {@link #MAX_DIGITS}
   * digits) starting at {@code from}, or -1 if there is none there.
   */
  private static int integerEnd(byte[] json, int from) {
    int i = from;
    if (json[i] == '-') {
      i++;
    }
    int digits = i;
    while (i < json.length && json[i] >= '0' && json[i] <= '9') {
      i++;
    }
    int count = i - digits;
    if (count == 0 || count > MAX_DIGITS || (json[digits] == '0' && count > 1)) {
      return -1;
    }
    // What follows ("1.5", "1e3", "1a") is the caller's to refuse: only whitespace, ',' or '}'.
    return i;
  }

  private static int skipWhitespace(byte[] json, int from) {
    int i = from;
    while (i < json.length && isWhitespace(json[i])) {
      i++;
    }
    return i;
  }

  /** JSON's whitespace, the only kind Jackson skips between tokens. */
  private static boolean isWhitespace(byte b) {
    return b == ' ' || b == '\n' || b == '\r' || b == '\t';
  }
}
