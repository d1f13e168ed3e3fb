package revproxy.protocol;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.util.ByteString;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import revproxy.TestConfigs;
import revproxy.fuzz.Corpus;
import revproxy.fuzz.Failures;
import revproxy.fuzz.FramingOracle;
import revproxy.fuzz.Input;

/**
 * Seeded fuzzing of {@link PacketCodec} and {@link PacketFraming}, on the {@link Corpus} and
 * against the {@link FramingOracle}.
 *
 * <p>The corpus is deterministic for a seed ({@link Corpus#SEED}, {@code -Dfuzz.seed=N}); every
 * failure message names the seed, the input's index and generator, and its bytes in hex. Failures
 * are collected over the whole corpus and reported together (the first few in full, all of them
 * counted by kind), so one run shows every distinct problem.
 */
class CodecFuzzTest {

  static final long SEED = Corpus.SEED;
  static final int LIMIT = Corpus.LIMIT;

  /** Random inputs, on top of the truncations of valid packets at every position. */
  static final int RANDOM_INPUTS = 9_000;

  static final int TRUNCATED_PACKETS = 15;

  /** Longest message of a refusal (the decoder's own messages, not echoed type "3" ones). */
  static final int MAX_MESSAGE = 300;

  /** The codes {@link PacketCodec#decode(ByteString)} can refuse one JSON object with. */
  static final Set<ErrorCode> DECODER_CODES =
      EnumSet.of(
          ErrorCode.MALFORMED_JSON,
          ErrorCode.MISSING_FIELD,
          ErrorCode.INVALID_FIELD,
          ErrorCode.UNSUPPORTED_TYPE,
          ErrorCode.PAYLOADSIZE_MISMATCH);

  static final ObjectMapper JSON = new ObjectMapper();

  static List<Input> corpus;
  static ActorSystem<Void> system;

  @BeforeAll
  static void buildCorpus() {
    Corpus generator = new Corpus(SEED, LIMIT, true);
    List<Input> inputs = new ArrayList<>(generator.truncationsAtEveryPosition(TRUNCATED_PACKETS));
    for (int n = 0; n < RANDOM_INPUTS; n++) {
      inputs.add(generator.next(inputs.size()));
    }
    corpus = inputs;
    system = ActorSystem.create(Behaviors.empty(), "CodecFuzzTest", TestConfigs.local());
  }

  @AfterAll
  static void stop() {
    if (system != null) {
      system.terminate();
    }
  }

  // ------------------------------------------------------------------------------------- tests

  @Test
  void corpusIsLargeAndMixed() {
    Map<String, Long> byKind =
        corpus.stream()
            .collect(Collectors.groupingBy(Input::kind, TreeMap::new, Collectors.counting()));
    assertTrue(corpus.size() >= 10_000, "corpus of " + corpus.size() + " inputs, seed " + SEED);
    assertTrue(byKind.size() >= 20, "generators used: " + byKind);
    System.out.println("CodecFuzzTest seed " + SEED + ": " + corpus.size() + " inputs " + byKind);
  }

  /**
   * (a) Neither decoder throws or returns null; what they return is well formed, and a type "3"
   * packet decoded is always the input's own, never one the decoder made up.
   */
  @Test
  void decodingNeverThrowsAndEveryResultIsWellFormed() {
    Failures failures = new Failures("decode");
    for (Input input : corpus) {
      ByteString bytes = ByteString.fromArray(input.bytes());
      Decoded request;
      Decoded any;
      try {
        request = PacketCodec.decodeRequest(bytes);
        any = PacketCodec.decode(bytes);
      } catch (Throwable t) {
        failures.add(input, "threw " + t);
        continue;
      }
      if (request == null || any == null) {
        failures.add(input, "returned null: decodeRequest " + request + ", decode " + any);
        continue;
      }
      checkRequestResult(input, request, failures);
      if (any instanceof Decoded.Refused refused) {
        checkRefusal(input, refused, failures);
      } else if (((Decoded.Ok) any).packet() instanceof Packet.Error error
          && !isEchoedErrorPacket(input, error)) {
        failures.add(input, "decoded a type \"3\" packet the input does not hold: " + error);
      }
      // decodeRequest differs from decode only in refusing types other than "0" and "1".
      boolean refusedType =
          request instanceof Decoded.Refused r && r.code() == ErrorCode.UNSUPPORTED_TYPE;
      if (!refusedType && !request.equals(any)) {
        failures.add(input, "decodeRequest gave " + request + " but decode gave " + any);
      }
    }
    failures.assertNone();
  }

  /** Inputs whose outcome a generator knows decode to exactly that. */
  @Test
  void inputsWithAKnownOutcomeDecodeToIt() {
    Failures failures = new Failures("known outcome");
    int known = 0;
    for (Input input : corpus) {
      if (input.intended() == null && input.expectedCode() == null) {
        continue;
      }
      known++;
      Decoded decoded = PacketCodec.decodeRequest(ByteString.fromArray(input.bytes()));
      if (input.intended() != null && !new Decoded.Ok(input.intended()).equals(decoded)) {
        failures.add(input, "expected " + input.intended() + " but decoded " + decoded);
      }
      if (input.expectedCode() != null
          && !(decoded instanceof Decoded.Refused r && r.code() == input.expectedCode())) {
        failures.add(input, "expected refusal " + input.expectedCode() + " but decoded " + decoded);
      }
    }
    failures.assertNone();
    assertTrue(known >= 3_000, "only " + known + " inputs with a known outcome");
  }

  /**
   * README: invalid UTF-8 is {@code malformed_json}. Checked against the JDK's strict decoder
   * (which rejects overlong forms, encoded surrogates and code points above U+10FFFF), not against
   * Jackson's own idea of UTF-8.
   */
  @Test
  void invalidUtf8IsMalformed() {
    Failures failures = new Failures("invalid UTF-8");
    int invalid = 0;
    for (Input input : corpus) {
      if (isValidUtf8(input.bytes())) {
        continue;
      }
      invalid++;
      Decoded decoded = PacketCodec.decodeRequest(ByteString.fromArray(input.bytes()));
      if (!(decoded instanceof Decoded.Refused r && r.code() == ErrorCode.MALFORMED_JSON)) {
        failures.add(input, "not valid UTF-8 but decoded as " + decoded);
      }
    }
    failures.assertNone();
    assertTrue(invalid >= 500, "only " + invalid + " inputs with invalid UTF-8");
  }

  /**
   * (b) Every decoded packet, errors included, survives encode then decode unchanged; every
   * refusal, sent back, decodes as exactly that type "3" packet.
   */
  @Test
  void everyDecodedPacketRoundTrips() {
    Failures failures = new Failures("round trip");
    for (Input input : corpus) {
      ByteString bytes = ByteString.fromArray(input.bytes());
      for (Decoded decoded : List.of(PacketCodec.decodeRequest(bytes), PacketCodec.decode(bytes))) {
        Packet packet = packetOrAnswer(decoded);
        Decoded again;
        try {
          again = PacketCodec.decode(PacketCodec.encode(packet));
        } catch (Throwable t) {
          failures.add(input, "encode/decode of " + packet + " threw " + t);
          continue;
        }
        if (!new Decoded.Ok(packet).equals(again)) {
          failures.add(input, "encoded " + packet + ", re-decoded " + again);
        }
        if (packet instanceof Packet.Request || packet instanceof Packet.Registration) {
          Decoded asRequest = PacketCodec.decodeRequest(PacketCodec.encode(packet));
          if (!decoded.equals(asRequest)) {
            failures.add(input, "encoded " + packet + ", decodeRequest gave " + asRequest);
          }
        }
      }
    }
    failures.assertNone();
  }

  /**
   * (c) An encoded error, a refusal's or a decoded one's, is ASCII JSON with exactly
   * type/destid/code/message, values intact.
   */
  @Test
  void everyEncodedErrorIsAsciiJsonWithFourFields() {
    Failures failures = new Failures("encoded error");
    for (Input input : corpus) {
      ByteString bytes = ByteString.fromArray(input.bytes());
      for (Decoded decoded : List.of(PacketCodec.decodeRequest(bytes), PacketCodec.decode(bytes))) {
        Packet packet = packetOrAnswer(decoded);
        if (packet instanceof Packet.Error error) {
          String problem = encodedErrorProblem(error);
          if (problem != null) {
            failures.add(input, problem);
          }
        }
      }
    }
    failures.assertNone();
  }

  /**
   * All inputs, concatenated per batch and cut into random chunks, through {@link
   * PacketFraming#flow(int)}. See {@link #checkFrameAccounting} for the invariant.
   */
  @Test
  void framingAccountsForEveryByte() throws Exception {
    Failures failures = new Failures("framing");
    Random random = new Random(SEED ^ 0x5DEECE66DL);
    int streams = 0;
    long jsonFrames = 0;
    for (int start = 0; start < corpus.size(); streams++) {
      int end = batchEnd(start, 1 + random.nextInt(40));
      List<Input> batch = corpus.subList(start, end);
      start = end;
      byte[] stream = concatenate(batch, random);
      List<Integer> cuts = randomCuts(stream.length, random);
      Input label = batchLabel(batch, stream);
      List<Frame> frames;
      try {
        frames = frame(chunks(stream, cuts, random));
      } catch (Exception e) {
        failures.add(label, "stream failed: " + e);
        continue;
      }
      jsonFrames += frames.stream().filter(f -> f instanceof Frame.Json).count();
      checkFrameAccounting(label, stream, cuts, frames, failures);
      checkReframing(label, frames, random, failures);
      checkChunkingIndependence(label, stream, frames, failures);
      for (Frame f : frames) {
        if (!(f instanceof Frame.Json)) {
          checkFrameError(label, f, failures);
        }
      }
    }
    System.out.println(
        "CodecFuzzTest framing: " + streams + " streams, " + jsonFrames + " JSON frames");
    failures.assertNone();
    assertTrue(
        jsonFrames >= 5_000, "only " + jsonFrames + " JSON frames in " + streams + " streams");
  }

  // ------------------------------------------------------------------------- decode checks

  /** The packet decoded or, for a refusal, the type "3" packet that answers it. */
  private static Packet packetOrAnswer(Decoded decoded) {
    return decoded instanceof Decoded.Refused refused
        ? refused.toError()
        : ((Decoded.Ok) decoded).packet();
  }

  private static void checkRequestResult(Input input, Decoded decoded, Failures failures) {
    if (decoded instanceof Decoded.Refused refused) {
      checkRefusal(input, refused, failures);
    } else if (((Decoded.Ok) decoded).packet() instanceof Packet.Request request) {
      checkRequestAgainstJackson(input, request, failures);
    } else if (!(((Decoded.Ok) decoded).packet() instanceof Packet.Registration)) {
      failures.add(input, "decodeRequest returned " + decoded);
    }
  }

  private static void checkRefusal(Input input, Decoded.Refused refused, Failures failures) {
    if (!DECODER_CODES.contains(refused.code())) {
      failures.add(input, "refusal code " + refused.code() + " is not one the decoder may give");
    }
    if (refused.message() == null || refused.message().isEmpty()) {
      failures.add(input, "empty refusal message: " + refused);
    } else if (refused.message().length() > MAX_MESSAGE) {
      failures.add(
          input,
          "refusal message of " + refused.message().length() + " chars: " + refused.message());
    }
  }

  /** A type "3" input decoded by {@link PacketCodec#decode}: its own code and message, echoed. */
  private static boolean isEchoedErrorPacket(Input input, Packet.Error error) {
    JsonNode node = plainJackson(input.bytes());
    return node != null
        && node.path("type").asText().equals("3")
        && node.path("code").isTextual()
        && node.path("code").asText().equals(error.code())
        && node.path("message").asText().equals(error.message());
  }

  /**
   * A decoded request must agree with a plain Jackson tree of the same bytes: policy id a plain
   * name, fields as sent, payloadsize (if sent) equal to the payload's UTF-8 length.
   */
  private static void checkRequestAgainstJackson(
      Input input, Packet.Request request, Failures failures) {
    if (!Packet.NAME.matcher(request.policyId()).matches()) {
      failures.add(input, "request with policy id " + request.policyId());
    }
    JsonNode node = plainJackson(input.bytes());
    if (node == null || !node.isObject()) {
      failures.add(input, "decoded " + request + " but Jackson cannot read the bytes");
      return;
    }
    if (!sameScalar(node.get("type"), "0")
        || !sameScalar(node.get("srcid"), request.srcid())
        || !sameScalar(node.get("privPoliId"), request.policyId())
        || !node.path("payload").isTextual()
        || !node.get("payload").asText().equals(request.payload())) {
      failures.add(input, "decoded " + request + " but the object is " + abbreviate(node));
    }
    JsonNode size = node.get("payloadsize");
    if (size != null) {
      int actual = request.payload().getBytes(UTF_8).length;
      boolean matches =
          (size.isTextual() && size.asText().equals(Integer.toString(actual)))
              || (size.isIntegralNumber()
                  && size.bigIntegerValue().equals(BigInteger.valueOf(actual)));
      if (!matches) {
        failures.add(input, "decoded " + request + " with payloadsize " + size + " != " + actual);
      }
    }
  }

  /** A string or integer field holding {@code text} (integers compared by value). */
  private static boolean sameScalar(JsonNode node, String text) {
    if (node == null) {
      return false;
    }
    if (node.isTextual()) {
      return node.asText().equals(text);
    }
    if (node.isIntegralNumber()) {
      try {
        return node.bigIntegerValue().equals(new BigInteger(text));
      } catch (NumberFormatException e) {
        return false;
      }
    }
    return false;
  }

  private static String encodedErrorProblem(Packet.Error error) {
    byte[] bytes = PacketCodec.encode(error).toArray();
    for (byte b : bytes) {
      if (b < 0x20 || b > 0x7E) {
        return "encoded error has byte " + String.format("0x%02X", b & 0xFF) + ": " + error;
      }
    }
    JsonNode node = plainJackson(bytes);
    if (node == null || !node.isObject()) {
      return "encoded error is not JSON: " + new String(bytes, UTF_8);
    }
    List<String> names = new ArrayList<>();
    node.fieldNames().forEachRemaining(names::add);
    if (!names.equals(List.of("type", "destid", "code", "message"))) {
      return "encoded error has fields " + names;
    }
    boolean destidOk =
        error.destId() == null
            ? node.get("destid").isNull()
            : node.get("destid").isTextual() && node.get("destid").asText().equals(error.destId());
    if (!node.get("type").asText().equals("3")
        || !node.get("type").isTextual()
        || !destidOk
        || !node.get("code").asText().equals(error.code())
        || !node.get("message").asText().equals(error.message())) {
      return "encoded error " + new String(bytes, UTF_8) + " does not read back as " + error;
    }
    return null;
  }

  static JsonNode plainJackson(byte[] bytes) {
    try {
      return JSON.readTree(bytes);
    } catch (Exception e) {
      return null;
    }
  }

  static boolean isValidUtf8(byte[] bytes) {
    try {
      UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes));
      return true;
    } catch (CharacterCodingException e) {
      return false;
    }
  }

  // ------------------------------------------------------------------------ framing checks

  private static final Pattern GARBAGE =
      Pattern.compile("expected '\\{' but found ('.'|0x[0-9A-F]{2}) \\((\\d+) bytes? skipped\\)");

  private static final Pattern UNFINISHED =
      Pattern.compile("connection closed inside an unfinished JSON object \\((\\d+) bytes\\)");

  /**
   * The invariant: walking the frames in order with a cursor into the stream, every byte is
   * accounted for exactly once.
   *
   * <ul>
   *   <li>A {@code Json} frame is the byte-exact slice of the stream starting at the first '{' at
   *       or after the cursor; its last byte is the brace that closes it (by the model in {@link
   *       FramingOracle}) and it is at most the limit long. The cursor moves past it.
   *   <li>The bytes skipped between the cursor and that '{' (a gap, which holds no '{') are
   *       whitespace or garbage: cut at the chunk boundaries, every piece holding a non-whitespace
   *       byte is reported by exactly one {@code Garbage} frame, in order and before the next
   *       frame, naming the piece's first non-whitespace byte and counting exactly the bytes from
   *       it to the piece's last non-whitespace byte. Whitespace-only pieces are not reported.
   *   <li>The last frame may be {@code TooLarge}: then the object starting at the next '{' really
   *       does not close within the limit. Or a {@code Garbage} "connection closed inside an
   *       unfinished JSON object (N bytes)": then the object at the next '{' never closes and N is
   *       exactly the number of bytes from it to the end of the stream.
   *   <li>Otherwise the stream ends in a gap (checked as above) with no '{' in it.
   * </ul>
   *
   * So json bytes + counted garbage bytes + uncounted whitespace + the unfinished/over-limit tail
   * equals the stream's length, and no byte is dropped or double counted.
   */
  static void checkFrameAccounting(
      Input label, byte[] stream, List<Integer> cuts, List<Frame> frames, Failures failures) {
    int cursor = 0;
    List<Frame.Garbage> garbage = new ArrayList<>();
    for (int k = 0; k < frames.size(); k++) {
      Frame frame = frames.get(k);
      boolean last = k == frames.size() - 1;
      if (frame instanceof Frame.Garbage g && GARBAGE.matcher(g.reason()).matches()) {
        garbage.add(g);
        continue;
      }
      int brace = FramingOracle.openingBrace(stream, cursor);
      String gapProblem =
          gapProblem(stream, cursor, brace < 0 ? stream.length : brace, cuts, garbage);
      if (gapProblem != null) {
        failures.add(label, "frame " + k + ": " + gapProblem);
        return;
      }
      garbage.clear();
      if (brace < 0) {
        failures.add(label, "frame " + k + " " + describe(frame) + " but no '{' after " + cursor);
        return;
      }
      if (frame instanceof Frame.Json json) {
        byte[] bytes = json.bytes().toArray();
        int end = FramingOracle.closingBrace(stream, brace, LIMIT);
        if (end != brace + bytes.length - 1
            || !Arrays.equals(stream, brace, brace + bytes.length, bytes, 0, bytes.length)) {
          failures.add(
              label,
              "frame "
                  + k
                  + " "
                  + describe(frame)
                  + " is not the object at "
                  + brace
                  + " (model: closing brace at "
                  + end
                  + ")");
          return;
        }
        cursor = brace + bytes.length;
      } else if (frame instanceof Frame.TooLarge tooLarge) {
        if (!last
            || tooLarge.limit() != LIMIT
            || FramingOracle.closingBrace(stream, brace, LIMIT) != FramingOracle.OVER_LIMIT) {
          failures.add(
              label,
              "frame " + k + " TooLarge for the object at " + brace + " (last: " + last + ")");
        }
        return;
      } else if (frame instanceof Frame.Garbage g && UNFINISHED.matcher(g.reason()).matches()) {
        Matcher m = UNFINISHED.matcher(g.reason());
        m.matches();
        int reported = Integer.parseInt(m.group(1));
        if (!last
            || reported != stream.length - brace
            || FramingOracle.closingBrace(stream, brace, LIMIT) != FramingOracle.UNFINISHED) {
          failures.add(
              label,
              "frame "
                  + k
                  + " '"
                  + g.reason()
                  + "' but the object at "
                  + brace
                  + " has "
                  + (stream.length - brace)
                  + " bytes to the end (last: "
                  + last
                  + ")");
        }
        return;
      } else {
        failures.add(label, "frame " + k + " unexpected " + describe(frame));
        return;
      }
    }
    int unframed = FramingOracle.openingBrace(stream, cursor);
    if (unframed >= 0) {
      failures.add(label, "stream ended without a frame for the '{' at " + unframed);
      return;
    }
    String tail = gapProblem(stream, cursor, stream.length, cuts, garbage);
    if (tail != null) {
      failures.add(label, "after the last frame: " + tail);
      return;
    }
  }

  /** Whether the garbage frames reported for stream[from, to) are exactly the model's. */
  private static String gapProblem(
      byte[] stream, int from, int to, List<Integer> cuts, List<Frame.Garbage> reported) {
    List<String> expected = new ArrayList<>();
    int pieceStart = from;
    for (int cut : cuts) {
      if (cut <= pieceStart) {
        continue;
      }
      if (cut >= to) {
        break;
      }
      expected.addAll(FramingOracle.garbageReasons(stream, pieceStart, cut));
      pieceStart = cut;
    }
    expected.addAll(FramingOracle.garbageReasons(stream, pieceStart, to));
    List<String> actual = reported.stream().map(Frame.Garbage::reason).toList();
    return expected.equals(actual)
        ? null
        : "gap [" + from + ", " + to + ") should report " + expected + " but reported " + actual;
  }

  /** Re-framing the concatenation of the Json frames gives exactly those frames again. */
  private static void checkReframing(
      Input label, List<Frame> frames, Random random, Failures failures) throws Exception {
    List<Frame> json = frames.stream().filter(f -> f instanceof Frame.Json).toList();
    ByteString all = ByteString.emptyByteString();
    for (Frame f : json) {
      all = all.concat(((Frame.Json) f).bytes());
    }
    byte[] bytes = all.toArray();
    List<Frame> again = frame(chunks(bytes, randomCuts(bytes.length, random), random));
    if (!again.equals(json)) {
      failures.add(label, "re-framing " + json.size() + " JSON frames gave " + summary(again));
    }
  }

  /** The Json frames and the final frame do not depend on where the chunks were cut. */
  private static void checkChunkingIndependence(
      Input label, byte[] stream, List<Frame> frames, Failures failures) throws Exception {
    List<Frame> whole = frame(List.of(ByteString.fromArray(stream)));
    if (!structural(whole).equals(structural(frames))) {
      failures.add(label, "one chunk: " + summary(whole) + "; random chunks: " + summary(frames));
    }
  }

  private static List<Object> structural(List<Frame> frames) {
    List<Object> out = new ArrayList<>();
    for (Frame f : frames) {
      if (f instanceof Frame.Json json) {
        out.add(json.bytes());
      } else if (f instanceof Frame.Garbage g && UNFINISHED.matcher(g.reason()).matches()) {
        out.add(g);
      } else if (f instanceof Frame.TooLarge) {
        out.add(f);
      }
    }
    return out;
  }

  private static void checkFrameError(Input label, Frame frame, Failures failures) {
    Decoded decoded = PacketCodec.decodeRequest(frame);
    ErrorCode expected =
        frame instanceof Frame.TooLarge ? ErrorCode.PACKET_TOO_LARGE : ErrorCode.NOT_JSON;
    if (!(decoded instanceof Decoded.Refused refused)
        || refused.code() != expected
        || refused.destId() != null
        || refused.message().isEmpty()
        || refused.message().length() > MAX_MESSAGE) {
      failures.add(label, describe(frame) + " decoded as " + decoded);
      return;
    }
    String problem = encodedErrorProblem(refused.toError());
    if (problem != null) {
      failures.add(label, problem);
    }
  }

  private static List<Frame> frame(List<ByteString> chunks) throws Exception {
    return Source.from(chunks)
        .via(PacketFraming.flow(LIMIT))
        .runWith(Sink.seq(), system)
        .toCompletableFuture()
        .get(20, TimeUnit.SECONDS);
  }

  /**
   * Up to {@code size} inputs from {@code start}, ending early after an input that leaves an object
   * open or over the limit (which would swallow the inputs after it).
   */
  private static int batchEnd(int start, int size) {
    int end = start;
    while (end < corpus.size() && end - start < size) {
      byte[] bytes = corpus.get(end++).bytes();
      if (!FramingOracle.closed(FramingOracle.segments(bytes, LIMIT))) {
        break;
      }
    }
    return end;
  }

  /** Batch inputs back to back, sometimes with whitespace between. */
  private static byte[] concatenate(List<Input> batch, Random random) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Input input : batch) {
      out.writeBytes(input.bytes());
      if (random.nextInt(4) == 0) {
        out.writeBytes(new byte[] {'\n'});
      }
    }
    return out.toByteArray();
  }

  /** Sorted chunk boundaries: sizes from 1 byte to a few KB, some tiny runs of 1-byte chunks. */
  private static List<Integer> randomCuts(int length, Random random) {
    List<Integer> cuts = new ArrayList<>();
    int maxChunk =
        switch (random.nextInt(4)) {
          case 0 -> 3;
          case 1 -> 64;
          case 2 -> 1500;
          default -> 16_384;
        };
    for (int at = 1 + random.nextInt(maxChunk); at < length; at += 1 + random.nextInt(maxChunk)) {
      cuts.add(at);
    }
    return cuts;
  }

  /** The chunks; some are built from 2-3 concatenated ByteStrings (several ByteBuffers). */
  private static List<ByteString> chunks(byte[] stream, List<Integer> cuts, Random random) {
    List<ByteString> chunks = new ArrayList<>();
    int from = 0;
    List<Integer> ends = new ArrayList<>(cuts);
    ends.add(stream.length);
    for (int to : ends) {
      if (to - from >= 3 && random.nextInt(3) == 0) {
        int a = from + 1 + random.nextInt(to - from - 1);
        chunks.add(
            ByteString.fromArray(stream, from, a - from)
                .concat(ByteString.fromArray(stream, a, to - a)));
      } else if (to > from) {
        chunks.add(ByteString.fromArray(stream, from, to - from));
      }
      from = to;
    }
    return chunks;
  }

  private static Input batchLabel(List<Input> batch, byte[] stream) {
    Input first = batch.get(0);
    return new Input(
        first.index(),
        "batch of inputs " + first.index() + ".." + batch.get(batch.size() - 1).index(),
        stream,
        null,
        null);
  }

  private static String describe(Frame frame) {
    if (frame instanceof Frame.Json json) {
      return "Json(" + json.bytes().size() + " bytes)";
    }
    return frame.toString();
  }

  private static String summary(List<Frame> frames) {
    return frames.stream().map(CodecFuzzTest::describe).collect(Collectors.joining(", ", "[", "]"));
  }

  private static String abbreviate(Object o) {
    String s = String.valueOf(o);
    return s.length() <= 200 ? s : s.substring(0, 200) + "...";
  }
}
