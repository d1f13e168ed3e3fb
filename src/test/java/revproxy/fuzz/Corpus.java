package revproxy.fuzz;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import revproxy.protocol.ErrorCode;
import revproxy.protocol.Packet;
import revproxy.protocol.PayloadHash;

/**
 * The seeded generators. Each is a small method returning one input; {@link #next} picks one by
 * weight. Valid JSON text is built as a Java string (lone surrogates always escaped) and encoded as
 * UTF-8; byte-level damage is done afterwards.
 *
 * <p>The corpus is deterministic for a seed: {@value #DEFAULT_SEED} unless {@code -Dfuzz.seed=N} is
 * given.
 */
public final class Corpus {
  public static final long DEFAULT_SEED = 20240611L;
  public static final long SEED = Long.getLong("fuzz.seed", DEFAULT_SEED);

  /** The size limit the corpus aims at ("near and over"): also the framing limit of the tests. */
  public static final int LIMIT = 8192;

  private static final Set<String> ALL_CODES =
      Arrays.stream(ErrorCode.values()).map(ErrorCode::wire).collect(Collectors.toSet());
  private static final List<String> KNOWN_KEYS =
      List.of(
          "type",
          "srcid",
          "destid",
          "privPoliId",
          "payloadsize",
          "payload",
          "id",
          "privPolyId",
          "listenport",
          "code",
          "message");
  private static final List<String> POLICIES = List.of("111", "222");
  private static final String NAME_CHARS =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";
  private static final byte[][] INVALID_UTF8 = {
    {(byte) 0x80},
    {(byte) 0xBF},
    {(byte) 0xC0, (byte) 0x80},
    {(byte) 0xC1, (byte) 0xBF},
    {(byte) 0xC3, 0x28},
    {(byte) 0xC3},
    {(byte) 0xE0, (byte) 0x80, (byte) 0x80},
    {(byte) 0xE2, (byte) 0x82},
    {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
    {(byte) 0xED, (byte) 0xBF, (byte) 0xBF},
    {(byte) 0xED, (byte) 0xA0, (byte) 0xBD, (byte) 0xED, (byte) 0xB8, (byte) 0x80},
    {(byte) 0xF0, (byte) 0x80, (byte) 0x80, (byte) 0x80},
    {(byte) 0xF0, (byte) 0x9F, (byte) 0x98},
    {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
    {(byte) 0xF5, (byte) 0x80, (byte) 0x80, (byte) 0x80},
    {(byte) 0xF7, (byte) 0xBF, (byte) 0xBF, (byte) 0xBF},
    {(byte) 0xF8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80},
    {(byte) 0xFE},
    {(byte) 0xFF},
  };

  private record Generator(String name, int weight, Supplier<Input> make) {}

  private final Random rnd;
  private final int limit;
  private final List<Generator> generators;
  private final int totalWeight;
  private int index;

  /** With {@code registrations} false no valid type "1" packet is generated on purpose. */
  public Corpus(long seed, int limit, boolean registrations) {
    this.rnd = new Random(seed);
    this.limit = limit;
    List<Generator> g = new ArrayList<>();
    g.add(new Generator("valid-request", 18, this::validRequest));
    g.add(new Generator("typed-fields", 8, this::typedFields));
    g.add(new Generator("duplicate-field", 4, this::duplicateField));
    g.add(new Generator("wrong-payloadsize", 4, this::wrongPayloadsize));
    g.add(new Generator("other-type", 5, () -> otherType(registrations)));
    g.add(new Generator("huge-number", 5, this::hugeNumber));
    g.add(new Generator("deep-nesting", 4, this::deepNesting));
    g.add(new Generator("truncated", 5, this::truncated));
    g.add(new Generator("bit-flip", 7, this::bitFlip));
    g.add(new Generator("byte-insert", 5, this::byteInsert));
    g.add(new Generator("byte-delete", 5, this::byteDelete));
    g.add(new Generator("invalid-utf8", 7, this::invalidUtf8));
    g.add(new Generator("random-bytes", 5, this::randomBytes));
    g.add(new Generator("json-ish-bytes", 5, this::jsonishBytes));
    g.add(new Generator("long-string", 4, this::longString));
    g.add(new Generator("unbalanced", 5, this::unbalanced));
    g.add(new Generator("backslash-run", 5, this::backslashRun));
    g.add(new Generator("raw-control-char", 4, this::rawControlChar));
    g.add(new Generator("bad-escape", 3, this::badEscape));
    g.add(new Generator("surrogate-escapes", 4, this::surrogateEscapes));
    this.generators = List.copyOf(g);
    this.totalWeight = g.stream().mapToInt(Generator::weight).sum();
  }

  /** One input from a generator picked by weight. */
  public Input next(int index) {
    this.index = index;
    int pick = rnd.nextInt(totalWeight);
    for (Generator g : generators) {
      pick -= g.weight();
      if (pick < 0) {
        return g.make().get();
      }
    }
    throw new AssertionError();
  }

  /** Every proper prefix (lengths 0 to n-1) of {@code packets} valid requests. */
  public List<Input> truncationsAtEveryPosition(int packets) {
    List<Input> out = new ArrayList<>();
    for (int p = 0; p < packets; p++) {
      byte[] whole = validRequest().bytes();
      for (int length = 0; length < whole.length; length++) {
        out.add(
            new Input(
                out.size(),
                "prefix-of-valid",
                Arrays.copyOf(whole, length),
                null,
                ErrorCode.MALFORMED_JSON));
      }
    }
    return out;
  }

  // ------------------------------------------------------------- well-formed generators

  Input validRequest() {
    String payload = rnd.nextInt(10) == 0 ? text(400) : text(40);
    return validRequest("valid-request", policy(), payload);
  }

  /** A valid request in random field order and formatting, with unknown extra fields. */
  Input validRequest(String kind, String policy, String payload) {
    Map<String, String> fields = new LinkedHashMap<>();
    fields.put("type", rnd.nextBoolean() ? "\"0\"" : "0");
    String srcid;
    if (rnd.nextBoolean()) {
      srcid = integerText();
      fields.put("srcid", srcid);
    } else {
      srcid = text(12);
      fields.put("srcid", quote(srcid));
    }
    boolean numericPolicy = policy.matches("0|[1-9][0-9]{0,17}") && rnd.nextInt(3) == 0;
    fields.put("privPoliId", numericPolicy ? policy : quote(policy));
    fields.put("payload", quote(payload));
    if (rnd.nextInt(3) == 0) {
      int size = payload.getBytes(UTF_8).length;
      fields.put("payloadsize", rnd.nextBoolean() ? Integer.toString(size) : "\"" + size + "\"");
    }
    for (int extra = rnd.nextInt(3); extra > 0; extra--) {
      fields.put("x-" + extra + "-" + text(6), value(3));
    }
    return input(kind, object(shuffled(fields)), new Packet.Request(srcid, policy, payload), null);
  }

  /** Known and unknown keys with values of any JSON type, keys possibly repeated. */
  Input typedFields() {
    List<Map.Entry<String, String>> fields = new ArrayList<>();
    for (int n = rnd.nextInt(9); n > 0; n--) {
      String name = rnd.nextInt(4) == 0 ? "x" + rnd.nextInt(3) : pick(KNOWN_KEYS);
      fields.add(Map.entry(quote(name), rnd.nextBoolean() ? plausibleValue(name) : value(2)));
    }
    return input("typed-fields", object(fields), null, null);
  }

  /** A valid request with one top-level field repeated (README: duplicate keys are malformed). */
  Input duplicateField() {
    String name = pick(List.of("type", "srcid", "privPoliId", "payload", "payloadsize", "x"));
    List<Map.Entry<String, String>> fields = new ArrayList<>();
    fields.add(Map.entry(quote("type"), "\"0\""));
    fields.add(Map.entry(quote("srcid"), quote(text(6))));
    fields.add(Map.entry(quote("privPoliId"), quote(pick(POLICIES))));
    fields.add(Map.entry(quote("payload"), quote(text(10))));
    fields.add(Map.entry(quote(name), plausibleValue(name)));
    fields.add(Map.entry(quote(name), rnd.nextBoolean() ? plausibleValue(name) : value(1)));
    return input("duplicate-field", object(shuffledList(fields)), null, ErrorCode.MALFORMED_JSON);
  }

  /** A valid request whose payloadsize is off: by some bytes, in characters, or not canonical. */
  Input wrongPayloadsize() {
    String payload = text(30);
    int bytes = payload.getBytes(UTF_8).length;
    String size =
        switch (rnd.nextInt(6)) {
          case 0 -> Integer.toString(bytes + 1 + rnd.nextInt(5));
          case 1 -> Integer.toString(bytes - 1 - rnd.nextInt(5));
          case 2 -> "\"" + (bytes + 1) + "\"";
          case 3 -> "\"0" + bytes + "\"";
          case 4 -> "\" " + bytes + "\"";
          default ->
              bytes == payload.length() ? "\"" + bytes + "x\"" : Integer.toString(payload.length());
        };
    Map<String, String> fields = baseFields();
    fields.put("payload", quote(payload));
    fields.put("payloadsize", size);
    return input(
        "wrong-payloadsize", object(shuffled(fields)), null, ErrorCode.PAYLOADSIZE_MISMATCH);
  }

  /** Replies, errors, registrations and unknown types, for decode() and its round trip. */
  Input otherType(boolean registrations) {
    List<Map.Entry<String, String>> fields = new ArrayList<>();
    int kind = rnd.nextInt(registrations ? 5 : 4);
    switch (kind) {
      case 0 -> {
        fields.add(Map.entry(quote("type"), rnd.nextBoolean() ? "\"2\"" : "2"));
        fields.add(Map.entry(quote("srcid"), quote(name())));
        fields.add(Map.entry(quote("destid"), quote(text(8))));
        fields.add(Map.entry(quote("payloadsize"), "40"));
        fields.add(
            Map.entry(
                quote("payload"),
                quote(rnd.nextBoolean() ? PayloadHash.sha1Hex(text(5)) : text(50))));
      }
      case 1 -> {
        fields.add(Map.entry(quote("type"), "\"3\""));
        fields.add(Map.entry(quote("destid"), rnd.nextBoolean() ? "null" : quote(text(8))));
        fields.add(
            Map.entry(
                quote("code"), quote(rnd.nextBoolean() ? pick(List.copyOf(ALL_CODES)) : text(20))));
        fields.add(Map.entry(quote("message"), quote(rnd.nextInt(5) == 0 ? text(1000) : text(80))));
      }
      case 2 ->
          fields.add(
              Map.entry(
                  quote("type"),
                  pick(
                      List.of(
                          "\"9\"", "\"\"", "\"00\"", "7", "-0", "\"x\"", "0.0", "true", "null",
                          "[]", "{}"))));
      case 3 -> fields.add(Map.entry(quote("type"), pick(List.of("\"2\"", "\"3\"", "1", "\"1\""))));
      default -> {
        fields.add(Map.entry(quote("type"), "\"1\""));
        fields.add(Map.entry(quote("id"), quote(name())));
        fields.add(Map.entry(quote("privPolyId"), quote(name())));
        String port = Integer.toString(rnd.nextInt(70_000));
        fields.add(Map.entry(quote("listenport"), rnd.nextBoolean() ? port : quote(port)));
      }
    }
    if (kind >= 2) {
      fields.add(Map.entry(quote("srcid"), quote(text(5))));
      fields.add(Map.entry(quote("privPoliId"), quote(pick(POLICIES))));
      fields.add(Map.entry(quote("payload"), quote(text(10))));
    }
    return input("other-type", object(shuffledList(fields)), null, null);
  }

  /** Numbers far out of any range, and number-like tokens that are not JSON numbers. */
  Input hugeNumber() {
    String number =
        switch (rnd.nextInt(8)) {
          case 0 -> digits(20 + rnd.nextInt(1500));
          case 1 -> "-" + digits(20 + rnd.nextInt(60));
          case 2 -> "1e" + digits(1 + rnd.nextInt(9));
          case 3 -> "-1.5E-" + digits(1 + rnd.nextInt(9));
          case 4 -> digits(1 + rnd.nextInt(40)) + "." + digits(1 + rnd.nextInt(1200));
          case 5 ->
              pick(
                  List.of(
                      "00012",
                      "-",
                      "1.",
                      ".5",
                      "+1",
                      "NaN",
                      "Infinity",
                      "-Infinity",
                      "0x10",
                      "1e",
                      "--1",
                      "1_000"));
          case 6 -> "9223372036854775808";
          default -> "-0";
        };
    String field = pick(List.of("srcid", "privPoliId", "payloadsize", "type", "x", "payload"));
    Map<String, String> fields = baseFields();
    fields.put(field, number);
    return input("huge-number", object(shuffled(fields)), null, null);
  }

  /** Nesting from a few to a few thousand levels, balanced or not. */
  Input deepNesting() {
    int depth = 1 + rnd.nextInt(rnd.nextBoolean() ? 3000 : 1200);
    String value;
    switch (rnd.nextInt(4)) {
      case 0 -> value = "[".repeat(depth) + "]".repeat(depth);
      case 1 ->
          value = "{\"a\":".repeat(Math.min(depth, 1500)) + "1" + "}".repeat(Math.min(depth, 1500));
      case 2 ->
          value = "[{\"a\":".repeat(Math.min(depth, 900)) + "0" + "}]".repeat(Math.min(depth, 900));
      default -> value = "{".repeat(depth) + "}".repeat(rnd.nextInt(depth + 1));
    }
    Map<String, String> fields = baseFields();
    fields.put(rnd.nextBoolean() ? "x" : pick(KNOWN_KEYS), value);
    String text = object(shuffled(fields));
    if (rnd.nextInt(4) == 0) {
      text = text.substring(0, text.length() - 1 - rnd.nextInt(Math.min(depth, text.length() - 1)));
    }
    return input("deep-nesting", text, null, null);
  }

  // ---------------------------------------------------------------- damage to valid bytes

  Input truncated() {
    byte[] whole = validRequest().bytes();
    return new Input(
        index,
        "truncated",
        Arrays.copyOf(whole, rnd.nextInt(whole.length)),
        null,
        ErrorCode.MALFORMED_JSON);
  }

  Input bitFlip() {
    byte[] b = validRequest().bytes().clone();
    for (int n = 1 + rnd.nextInt(3); n > 0; n--) {
      int at = rnd.nextInt(b.length);
      b[at] ^= (byte) (1 << rnd.nextInt(8));
    }
    return new Input(index, "bit-flip", b, null, null);
  }

  Input byteInsert() {
    byte[] b = validRequest().bytes();
    for (int n = 1 + rnd.nextInt(3); n > 0; n--) {
      String structural = "{}[]\":,\\ \n0tn\u0000";
      byte inserted =
          rnd.nextBoolean()
              ? (byte) structural.charAt(rnd.nextInt(structural.length()))
              : (byte) rnd.nextInt(256);
      b = splice(b, rnd.nextInt(b.length + 1), 0, new byte[] {inserted});
    }
    return new Input(index, "byte-insert", b, null, null);
  }

  Input byteDelete() {
    byte[] b = validRequest().bytes();
    for (int n = 1 + rnd.nextInt(3); n > 0 && b.length > 0; n--) {
      b = splice(b, rnd.nextInt(b.length), 1, new byte[0]);
    }
    return new Input(index, "byte-delete", b, null, null);
  }

  /** A brace or quote added or removed, an extra brace around, or the closing brace missing. */
  Input unbalanced() {
    byte[] b = validRequest().bytes();
    switch (rnd.nextInt(5)) {
      case 0 ->
          b =
              splice(
                  b,
                  rnd.nextInt(b.length + 1),
                  0,
                  new byte[] {(byte) "{}\"".charAt(rnd.nextInt(3))});
      case 1 -> {
        List<Integer> at = new ArrayList<>();
        for (int i = 0; i < b.length; i++) {
          if (b[i] == '{' || b[i] == '}' || b[i] == '"') {
            at.add(i);
          }
        }
        b = splice(b, at.get(rnd.nextInt(at.size())), 1, new byte[0]);
      }
      case 2 -> b = concat("{".repeat(1 + rnd.nextInt(3)).getBytes(UTF_8), b);
      case 3 -> b = concat(b, "}".repeat(1 + rnd.nextInt(3)).getBytes(UTF_8));
      default -> b = Arrays.copyOf(b, b.length - 1);
    }
    return new Input(index, "unbalanced", b, null, null);
  }

  /** Invalid UTF-8 inside a value, a key, an ignored string, or between tokens. */
  Input invalidUtf8() {
    String[] templates = {
      "{\"type\": \"0\", \"srcid\": \"7\", \"privPoliId\": \"111\", \"payload\": \"a@b\"}",
      "{\"type\": \"0\", \"srcid\": \"a@\", \"privPoliId\": \"222\", \"payload\": \"x\"}",
      "{\"type\": \"0\", \"srcid\": \"7\", \"privPoliId\": \"111\", \"payload\": \"x\", \"n@te\":"
          + " 1}",
      "{\"type\": \"0\", \"srcid\": \"7\", \"note\": \"@\", \"privPoliId\": \"111\", \"payload\":"
          + " \"x\"}",
      "{\"type\": \"0\", \"srcid\": \"7\", \"privPoliId\": \"111\", \"payload\": \"@\"}",
      "{\"type\": \"0\",@ \"srcid\": \"7\", \"privPoliId\": \"111\", \"payload\": \"x\"}",
      "{\"type\": \"0\", \"srcid\": \"7\", \"privPoliId\": \"111\", \"payload\":"
          + " \"\u00e9@\u00e9\"}",
    };
    String template = pick(List.of(templates));
    int at = template.indexOf('@');
    byte[] bad = pick(List.of(INVALID_UTF8));
    byte[] b =
        concat(
            template.substring(0, at).getBytes(UTF_8),
            bad,
            template.substring(at + 1).getBytes(UTF_8));
    // Whether the decoder rejects these is checked by invalidUtf8IsMalformed, against the JDK.
    return new Input(index, "invalid-utf8", b, null, null);
  }

  /** Raw control characters (NUL included), inside a string or between tokens. */
  Input rawControlChar() {
    char c = rnd.nextInt(4) == 0 ? '\u0000' : (char) rnd.nextInt(0x20);
    boolean inString = rnd.nextInt(4) != 0;
    String payload = "a" + c + "b";
    String text =
        inString
            ? "{\"type\": \"0\", \"srcid\": \"5\", \"privPoliId\": \"111\", \"payload\": \""
                + payload
                + "\"}"
            : "{\"type\": \"0\","
                + c
                + " \"srcid\": \"5\", \"privPoliId\": \"111\", \"payload\": \"x\"}";
    return input("raw-control-char", text, null, inString ? ErrorCode.MALFORMED_JSON : null);
  }

  /** Payload text with runs of backslashes, written raw (so quotes may end up escaped). */
  Input backslashRun() {
    StringBuilder raw = new StringBuilder();
    for (int n = 1 + rnd.nextInt(4); n > 0; n--) {
      raw.append("\\".repeat(1 + rnd.nextInt(20)));
      raw.append(pick(List.of("\"", "n", "u", "u00e9", "x", "{", "}", "", "/", "\"}")));
    }
    String text =
        "{\"type\": \"0\", \"srcid\": \"b\", \"privPoliId\": \"111\", \"payload\": \""
            + raw
            + "\"}";
    if (rnd.nextBoolean()) {
      text += "{\"after\": \"x\"}";
    }
    return input("backslash-run", text, null, null);
  }

  Input badEscape() {
    String escape =
        pick(List.of("\\uD8", "\\uZZZZ", "\\x41", "\\u", "\\U0041", "\\a", "\\0", "\\u12", "\\'"));
    String text =
        "{\"type\": \"0\", \"srcid\": \"e\", \"privPoliId\": \"111\", \"payload\": \"a"
            + escape
            + "b\"}";
    return input("bad-escape", text, null, ErrorCode.MALFORMED_JSON);
  }

  /** Escaped surrogates: lone, reversed, doubled, or a proper pair split by escapes. */
  Input surrogateEscapes() {
    String payload =
        switch (rnd.nextInt(5)) {
          case 0 -> "\ud800";
          case 1 -> "x\udc00y";
          case 2 -> "\udc00\ud800";
          case 3 -> "\ud83d\ude00\ud83d";
          default -> "\ud800\ud800\udfff";
        };
    return validRequest("surrogate-escapes", pick(POLICIES), payload + text(5));
  }

  // ------------------------------------------------------------------- not really JSON

  Input randomBytes() {
    byte[] b = new byte[rnd.nextInt(300)];
    rnd.nextBytes(b);
    return new Input(index, "random-bytes", b, null, null);
  }

  Input jsonishBytes() {
    String alphabet = "{}{}[]\"\":,\\ \n\t0123456789.eE-+truefalsenul abc";
    byte[] b = new byte[rnd.nextInt(200)];
    for (int i = 0; i < b.length; i++) {
      b[i] =
          rnd.nextInt(30) == 0
              ? (byte) rnd.nextInt(256)
              : (byte) alphabet.charAt(rnd.nextInt(alphabet.length()));
    }
    return new Input(index, "json-ish-bytes", b, null, null);
  }

  /** A request whose total size is within 64 bytes of the limit, either side; or long garbage. */
  Input longString() {
    int target = limit - 64 + rnd.nextInt(129);
    String head = "{\"type\": \"0\", \"srcid\": \"L\", \"privPoliId\": \"111\", \"payload\": \"";
    String tail = "\"}";
    int room = Math.max(0, target - head.length() - tail.length());
    switch (rnd.nextInt(4)) {
      case 0 -> {
        String payload = "x".repeat(room);
        return input(
            "long-string", head + payload + tail, new Packet.Request("L", "111", payload), null);
      }
      case 1 -> {
        // 3-byte characters: the size limit counts bytes, not characters.
        String payload = "\u20ac".repeat(room / 3);
        return input(
            "long-string", head + payload + tail, new Packet.Request("L", "111", payload), null);
      }
      case 2 -> {
        String srcid = "s".repeat(room);
        String text =
            "{\"type\": \"0\", \"srcid\": \""
                + srcid
                + "\", \"privPoliId\": \"222\", \"payload\": \"\"}";
        return input("long-string", text, new Packet.Request(srcid, "222", ""), null);
      }
      default -> {
        return input("long-string", "g".repeat(target), null, ErrorCode.MALFORMED_JSON);
      }
    }
  }

  // ---------------------------------------------------------------------- JSON pieces

  /** A valid request's fields by plain name (quoted when rendered), to be overridden. */
  private Map<String, String> baseFields() {
    Map<String, String> fields = new LinkedHashMap<>();
    fields.put("type", "\"0\"");
    fields.put("srcid", quote(text(6)));
    fields.put("privPoliId", quote(pick(POLICIES)));
    fields.put("payload", quote(text(10)));
    return fields;
  }

  /** A value of the type the field expects, or a near miss. */
  private String plausibleValue(String name) {
    return switch (name) {
      case "type" -> pick(List.of("\"0\"", "0", "\"1\"", "\"2\"", "\"3\""));
      case "privPoliId", "privPolyId", "id" -> rnd.nextBoolean() ? quote(policy()) : quote(text(5));
      case "payloadsize", "listenport" -> rnd.nextBoolean() ? integerText() : quote(integerText());
      case "destid" -> rnd.nextBoolean() ? "null" : quote(text(5));
      default -> quote(text(20));
    };
  }

  /** Any JSON value; {@code depth} bounds nesting. Nested objects never repeat a key. */
  private String value(int depth) {
    switch (rnd.nextInt(depth > 0 ? 10 : 8)) {
      case 0, 1:
        return quote(text(20));
      case 2:
        return integerText();
      case 3:
        return pick(List.of("1.5", "-0.0", "1e308", "1e-400", "1E+2", "6.02e23", "0.1"));
      case 4:
        return rnd.nextBoolean() ? "true" : "false";
      case 5:
        return "null";
      case 6:
        return "\"\"";
      case 7:
        return digits(30);
      case 8:
        {
          List<String> items = new ArrayList<>();
          for (int n = rnd.nextInt(4); n > 0; n--) {
            items.add(value(depth - 1));
          }
          return "[" + ws() + String.join("," + ws(), items) + ws() + "]";
        }
      default:
        {
          List<Map.Entry<String, String>> fields = new ArrayList<>();
          for (int n = rnd.nextInt(4); n > 0; n--) {
            fields.add(Map.entry(quote("k" + n), value(depth - 1)));
          }
          return object(fields);
        }
    }
  }

  /** A JSON object; whitespace around every token chosen at random. */
  private String object(Iterable<Map.Entry<String, String>> fields) {
    StringBuilder out = new StringBuilder("{").append(ws());
    boolean first = true;
    for (Map.Entry<String, String> field : fields) {
      if (!first) {
        out.append(',').append(ws());
      }
      first = false;
      out.append(field.getKey())
          .append(ws())
          .append(':')
          .append(ws())
          .append(field.getValue())
          .append(ws());
    }
    return out.append('}').toString();
  }

  private String ws() {
    return switch (rnd.nextInt(8)) {
      case 0 -> " ";
      case 1 -> "\n";
      case 2 -> "\t";
      case 3 -> "\r\n  ";
      default -> "";
    };
  }

  /**
   * A JSON string literal for {@code value}: escapes required by JSON always, optional escapes (any
   * character as \\uXXXX, '/' as \\/) at random, lone surrogates always as \\uXXXX.
   */
  String quote(String value) {
    StringBuilder out = new StringBuilder("\"");
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < value.length()
          && Character.isLowSurrogate(value.charAt(i + 1))) {
        char low = value.charAt(++i);
        if (rnd.nextInt(4) == 0) {
          out.append(unicodeEscape(c)).append(unicodeEscape(low));
        } else {
          out.append(c).append(low);
        }
      } else if (Character.isSurrogate(c)) {
        out.append(unicodeEscape(c));
      } else if (c == '"' || c == '\\') {
        out.append(rnd.nextInt(4) == 0 ? unicodeEscape(c) : "\\" + c);
      } else if (c < 0x20) {
        String shortForm =
            switch (c) {
              case '\b' -> "\\b";
              case '\f' -> "\\f";
              case '\n' -> "\\n";
              case '\r' -> "\\r";
              case '\t' -> "\\t";
              default -> null;
            };
        out.append(shortForm != null && rnd.nextBoolean() ? shortForm : unicodeEscape(c));
      } else if (c == '/' && rnd.nextBoolean()) {
        out.append("\\/");
      } else if (rnd.nextInt(12) == 0) {
        out.append(unicodeEscape(c));
      } else {
        out.append(c);
      }
    }
    return out.append('"').toString();
  }

  private String unicodeEscape(char c) {
    return String.format(rnd.nextBoolean() ? "\\u%04x" : "\\u%04X", (int) c);
  }

  /** Random text from every corner of UTF-16: controls, Latin-1, BMP, pairs, lone surrogates. */
  String text(int maxLength) {
    int length = rnd.nextInt(maxLength + 1);
    StringBuilder s = new StringBuilder();
    while (s.length() < length) {
      switch (rnd.nextInt(14)) {
        case 0, 1, 2, 3, 4 -> s.append((char) (0x20 + rnd.nextInt(0x5F)));
        case 5 -> s.append((char) rnd.nextInt(0x20));
        case 6 -> s.append((char) (0x7F + rnd.nextInt(0x81)));
        case 7 -> s.append((char) (0x100 + rnd.nextInt(0xD800 - 0x100)));
        case 8 -> s.append((char) (0xE000 + rnd.nextInt(0x2000)));
        case 9 -> s.appendCodePoint(0x10000 + rnd.nextInt(0x100000));
        case 10 -> s.append((char) (0xD800 + rnd.nextInt(0x400)));
        case 11 -> s.append((char) (0xDC00 + rnd.nextInt(0x400)));
        case 12 ->
            s.append(pick(List.of("\u0000", "\u2028", "\ufeff", "\uffff", "\u00e9", "e\u0301")));
        default -> s.append("\"\\/{}[]:,".charAt(rnd.nextInt(9)));
      }
    }
    return s.toString();
  }

  private String policy() {
    return switch (rnd.nextInt(10)) {
      case 0, 1 -> name();
      case 2 -> Integer.toString(rnd.nextInt(1000));
      case 3 -> pick(List.of(".", "-", "_", "a".repeat(64), "0", "A.b-c_d"));
      default -> pick(POLICIES);
    };
  }

  private String name() {
    StringBuilder s = new StringBuilder();
    for (int n = 1 + rnd.nextInt(rnd.nextBoolean() ? 8 : 64); n > 0; n--) {
      s.append(NAME_CHARS.charAt(rnd.nextInt(NAME_CHARS.length())));
    }
    return s.toString();
  }

  /** A canonical JSON integer (no leading zeros, no "-0"), from tiny to 40 digits. */
  private String integerText() {
    BigInteger n =
        switch (rnd.nextInt(4)) {
          case 0 -> BigInteger.valueOf(rnd.nextInt(1000));
          case 1 -> BigInteger.valueOf(-rnd.nextInt(1000));
          case 2 -> BigInteger.valueOf(rnd.nextLong());
          default ->
              new BigInteger(1 + rnd.nextInt(130), rnd)
                  .negate()
                  .multiply(BigInteger.valueOf(rnd.nextBoolean() ? 1 : -1));
        };
    return n.toString();
  }

  private String digits(int count) {
    StringBuilder s = new StringBuilder().append((char) ('1' + rnd.nextInt(9)));
    while (s.length() < count) {
      s.append((char) ('0' + rnd.nextInt(10)));
    }
    return s.toString();
  }

  private <T> T pick(List<T> options) {
    return options.get(rnd.nextInt(options.size()));
  }

  /** The fields (by plain name) in random order, names quoted. */
  private List<Map.Entry<String, String>> shuffled(Map<String, String> fields) {
    List<Map.Entry<String, String>> quoted = new ArrayList<>();
    fields.forEach((name, value) -> quoted.add(Map.entry(quote(name), value)));
    return shuffledList(quoted);
  }

  private List<Map.Entry<String, String>> shuffledList(List<Map.Entry<String, String>> fields) {
    List<Map.Entry<String, String>> copy = new ArrayList<>(fields);
    Collections.shuffle(copy, rnd);
    return copy;
  }

  private Input input(String kind, String text, Packet.Request intended, ErrorCode expectedCode) {
    return new Input(index, kind, text.getBytes(UTF_8), intended, expectedCode);
  }

  private static byte[] splice(byte[] b, int at, int remove, byte[] insert) {
    return concat(
        Arrays.copyOfRange(b, 0, at), insert, Arrays.copyOfRange(b, at + remove, b.length));
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }
}
