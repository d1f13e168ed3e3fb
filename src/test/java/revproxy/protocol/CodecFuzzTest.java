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
import java.util.Collections;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import revproxy.TestConfigs;

/**
 * Seeded fuzzing of {@link PacketCodec} and {@link PacketFraming}.
 *
 * <p>The corpus is deterministic for a seed: {@value #DEFAULT_SEED} unless {@code -Dfuzz.seed=N} is
 * given; every failure message names the seed, the input's index and generator, and its bytes in
 * hex. Failures are collected over the whole corpus and reported together (the first few in full,
 * all of them counted by kind), so one run shows every distinct problem.
 */
public class CodecFuzzTest {

  public static final long DEFAULT_SEED = 20240611L;
  public static final long SEED = Long.getLong("fuzz.seed", DEFAULT_SEED);

  /** The size limit the corpus aims at ("near and over"): also the framing limit used here. */
  public static final int LIMIT = 8192;

  /** Random inputs, on top of the truncations of valid packets at every position. */
  static final int RANDOM_INPUTS = 9_000;

  static final int TRUNCATED_PACKETS = 15;

  /** Longest error message the decoder may write (its own messages, not echoed type "3" ones). */
  public static final int MAX_MESSAGE = 300;

  /** The codes {@link PacketCodec#decode(ByteString)} itself can produce for one JSON object. */
  static final Set<String> DECODER_CODES =
      EnumSet.of(
              ErrorCode.MALFORMED_JSON,
              ErrorCode.MISSING_FIELD,
              ErrorCode.INVALID_FIELD,
              ErrorCode.UNSUPPORTED_TYPE,
              ErrorCode.PAYLOADSIZE_MISMATCH)
          .stream()
          .map(ErrorCode::wire)
          .collect(Collectors.toSet());

  static final Set<String> ALL_CODES =
      Arrays.stream(ErrorCode.values()).map(ErrorCode::wire).collect(Collectors.toSet());

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

  /** (a) Neither decoder throws or returns null; what they return is well formed. */
  @Test
  void decodingNeverThrowsAndEveryResultIsWellFormed() {
    Failures failures = new Failures("decode");
    for (Input input : corpus) {
      ByteString bytes = ByteString.fromArray(input.bytes());
      Packet request;
      Packet any;
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
      if (any instanceof Packet.Error error && !isEchoedErrorPacket(input, error)) {
        checkDecoderError(input, error, failures);
      }
      // decodeRequest differs from decode only in refusing types other than "0" and "1".
      boolean refusedType =
          request instanceof Packet.Error e && e.code().equals(ErrorCode.UNSUPPORTED_TYPE.wire());
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
      Packet decoded = PacketCodec.decodeRequest(ByteString.fromArray(input.bytes()));
      if (input.intended() != null && !input.intended().equals(decoded)) {
        failures.add(input, "expected " + input.intended() + " but decoded " + decoded);
      }
      if (input.expectedCode() != null
          && !(decoded instanceof Packet.Error e && e.code().equals(input.expectedCode()))) {
        failures.add(input, "expected error " + input.expectedCode() + " but decoded " + decoded);
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
      Packet decoded = PacketCodec.decodeRequest(ByteString.fromArray(input.bytes()));
      if (!(decoded instanceof Packet.Error e && e.code().equals("malformed_json"))) {
        failures.add(input, "not valid UTF-8 but decoded as " + decoded);
      }
    }
    failures.assertNone();
    assertTrue(invalid >= 500, "only " + invalid + " inputs with invalid UTF-8");
  }

  /** (b) Every decoded packet, errors included, survives encode then decode unchanged. */
  @Test
  void everyDecodedPacketRoundTrips() {
    Failures failures = new Failures("round trip");
    for (Input input : corpus) {
      ByteString bytes = ByteString.fromArray(input.bytes());
      for (Packet packet : List.of(PacketCodec.decodeRequest(bytes), PacketCodec.decode(bytes))) {
        Packet again;
        try {
          again = PacketCodec.decode(PacketCodec.encode(packet));
        } catch (Throwable t) {
          failures.add(input, "encode/decode of " + packet + " threw " + t);
          continue;
        }
        if (!packet.equals(again)) {
          failures.add(input, "encoded " + packet + ", re-decoded " + again);
        }
        if (!(packet instanceof Packet.Error)) {
          Packet asRequest = PacketCodec.decodeRequest(PacketCodec.encode(packet));
          boolean requestType =
              packet instanceof Packet.Request || packet instanceof Packet.Registration;
          if (requestType && !packet.equals(asRequest)) {
            failures.add(input, "encoded " + packet + ", decodeRequest gave " + asRequest);
          }
        }
      }
    }
    failures.assertNone();
  }

  /** (c) An encoded error is ASCII JSON with exactly type/destid/code/message, values intact. */
  @Test
  void everyEncodedErrorIsAsciiJsonWithFourFields() {
    Failures failures = new Failures("encoded error");
    for (Input input : corpus) {
      ByteString bytes = ByteString.fromArray(input.bytes());
      for (Packet packet : List.of(PacketCodec.decodeRequest(bytes), PacketCodec.decode(bytes))) {
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

  private static void checkRequestResult(Input input, Packet packet, Failures failures) {
    if (packet instanceof Packet.Error error) {
      checkDecoderError(input, error, failures);
    } else if (packet instanceof Packet.Request request) {
      checkRequestAgainstJackson(input, request, failures);
    } else if (!(packet instanceof Packet.Registration)) {
      failures.add(input, "decodeRequest returned " + packet.getClass().getSimpleName());
    }
  }

  private static void checkDecoderError(Input input, Packet.Error error, Failures failures) {
    if (!DECODER_CODES.contains(error.code())) {
      failures.add(input, "error code " + error.code() + " is not one the decoder may give");
    }
    if (error.message() == null || error.message().isEmpty()) {
      failures.add(input, "empty error message: " + error);
    } else if (error.message().length() > MAX_MESSAGE) {
      failures.add(
          input, "error message of " + error.message().length() + " chars: " + error.message());
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
   *       FramingModel}) and it is at most the limit long. The cursor moves past it.
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
      int brace = indexOf(stream, (byte) '{', cursor);
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
        int end = FramingModel.closingBrace(stream, brace, LIMIT);
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
            || FramingModel.closingBrace(stream, brace, LIMIT) != FramingModel.OVER_LIMIT) {
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
            || FramingModel.closingBrace(stream, brace, LIMIT) != FramingModel.UNFINISHED) {
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
    if (indexOf(stream, (byte) '{', cursor) >= 0) {
      failures.add(
          label,
          "stream ended without a frame for the '{' at " + indexOf(stream, (byte) '{', cursor));
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
      expected.addAll(FramingModel.garbageReasons(stream, pieceStart, cut));
      pieceStart = cut;
    }
    expected.addAll(FramingModel.garbageReasons(stream, pieceStart, to));
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
    Packet packet = PacketCodec.decodeRequest(frame);
    String expected = frame instanceof Frame.TooLarge ? "packet_too_large" : "not_json";
    if (!(packet instanceof Packet.Error error)
        || !error.code().equals(expected)
        || error.destId() != null
        || error.message().isEmpty()
        || error.message().length() > MAX_MESSAGE) {
      failures.add(label, describe(frame) + " decoded as " + packet);
      return;
    }
    String problem = encodedErrorProblem(error);
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
      if (!FramingModel.closed(FramingModel.segments(bytes, LIMIT))) {
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

  private static int indexOf(byte[] bytes, byte b, int from) {
    for (int i = from; i < bytes.length; i++) {
      if (bytes[i] == b) {
        return i;
      }
    }
    return -1;
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

  // ---------------------------------------------------------------------------- the corpus

  /**
   * One fuzz input. {@code intended} is the request a generator meant to build (the decoder must
   * return exactly it); {@code expectedCode} is an error code a generator knows the decoder must
   * give. Both are null when the generator makes no claim.
   */
  public record Input(
      int index, String kind, byte[] bytes, Packet.Request intended, String expectedCode) {

    public String hex() {
      int shown = Math.min(bytes.length, 160);
      return HexFormat.of().formatHex(bytes, 0, shown)
          + (shown < bytes.length ? "... (" + bytes.length + " bytes)" : "");
    }

    @Override
    public String toString() {
      return "input #" + index + " [" + kind + "] hex " + hex();
    }
  }

  /** Collects failures over a whole corpus; reports the first few in full and all by kind. */
  public static final class Failures {
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
                  + SEED
                  + " (rerun with -Dfuzz.seed="
                  + SEED
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

  /**
   * The framing rules of {@link PacketFraming} restated on a whole byte array: the model the tests
   * check the stage (and the proxy) against.
   */
  public static final class FramingModel {
    public static final int UNFINISHED = -1;
    public static final int OVER_LIMIT = -2;

    private FramingModel() {}

    public static boolean isWhitespace(byte b) {
      return b == ' ' || b == '\t' || b == '\r' || b == '\n';
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
        int brace = indexOf(s, (byte) '{', at);
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

  /**
   * The seeded generators. Each is a small method returning one input; {@link #next} picks one by
   * weight. Valid JSON text is built as a Java string (lone surrogates always escaped) and encoded
   * as UTF-8; byte-level damage is done afterwards.
   */
  public static final class Corpus {
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
                  "malformed_json"));
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
      return input(
          kind, object(shuffled(fields)), new Packet.Request(srcid, policy, payload), null);
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
      return input("duplicate-field", object(shuffledList(fields)), null, "malformed_json");
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
                bytes == payload.length()
                    ? "\"" + bytes + "x\""
                    : Integer.toString(payload.length());
          };
      Map<String, String> fields = baseFields();
      fields.put("payload", quote(payload));
      fields.put("payloadsize", size);
      return input("wrong-payloadsize", object(shuffled(fields)), null, "payloadsize_mismatch");
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
                  quote("code"),
                  quote(rnd.nextBoolean() ? pick(List.copyOf(ALL_CODES)) : text(20))));
          fields.add(
              Map.entry(quote("message"), quote(rnd.nextInt(5) == 0 ? text(1000) : text(80))));
        }
        case 2 ->
            fields.add(
                Map.entry(
                    quote("type"),
                    pick(
                        List.of(
                            "\"9\"", "\"\"", "\"00\"", "7", "-0", "\"x\"", "0.0", "true", "null",
                            "[]", "{}"))));
        case 3 ->
            fields.add(Map.entry(quote("type"), pick(List.of("\"2\"", "\"3\"", "1", "\"1\""))));
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
            value =
                "{\"a\":".repeat(Math.min(depth, 1500)) + "1" + "}".repeat(Math.min(depth, 1500));
        case 2 ->
            value =
                "[{\"a\":".repeat(Math.min(depth, 900)) + "0" + "}]".repeat(Math.min(depth, 900));
        default -> value = "{".repeat(depth) + "}".repeat(rnd.nextInt(depth + 1));
      }
      Map<String, String> fields = baseFields();
      fields.put(rnd.nextBoolean() ? "x" : pick(KNOWN_KEYS), value);
      String text = object(shuffled(fields));
      if (rnd.nextInt(4) == 0) {
        text =
            text.substring(0, text.length() - 1 - rnd.nextInt(Math.min(depth, text.length() - 1)));
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
          "malformed_json");
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
      return input("raw-control-char", text, null, inString ? "malformed_json" : null);
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
          pick(
              List.of("\\uD8", "\\uZZZZ", "\\x41", "\\u", "\\U0041", "\\a", "\\0", "\\u12", "\\'"));
      String text =
          "{\"type\": \"0\", \"srcid\": \"e\", \"privPoliId\": \"111\", \"payload\": \"a"
              + escape
              + "b\"}";
      return input("bad-escape", text, null, "malformed_json");
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
          return input("long-string", "g".repeat(target), null, "malformed_json");
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
        case "privPoliId", "privPolyId", "id" ->
            rnd.nextBoolean() ? quote(policy()) : quote(text(5));
        case "payloadsize", "listenport" ->
            rnd.nextBoolean() ? integerText() : quote(integerText());
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
     * A JSON string literal for {@code value}: escapes required by JSON always, optional escapes
     * (any character as \\uXXXX, '/' as \\/) at random, lone surrogates always as \\uXXXX.
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

    private Input input(String kind, String text, Packet.Request intended, String expectedCode) {
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
}
