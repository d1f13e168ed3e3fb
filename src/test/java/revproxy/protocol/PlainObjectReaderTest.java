package revproxy.protocol;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.util.ByteString;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import revproxy.fuzz.Corpus;
import revproxy.fuzz.Input;

/**
 * {@link PlainObjectReader} reads the common packets itself and leaves everything else to Jackson,
 * and {@link PacketCodec}'s answer is the same either way: exactly what Jackson alone decodes.
 */
class PlainObjectReaderTest {

  private static boolean readsItself(String json) {
    return PlainObjectReader.read(json.getBytes(UTF_8), new PacketFields());
  }

  /** The codec's answer (fast path first) must equal Jackson's alone, for both readers' modes. */
  private static void assertSameAsJackson(byte[] json) {
    assertEquals(null, difference(json));
  }

  /** How the codec's answer differs from Jackson's alone for {@code json}, or null. */
  private static String difference(byte[] json) {
    for (boolean requestsOnly : new boolean[] {true, false}) {
      Decoded jackson = PacketCodec.decodeWithJackson(json, requestsOnly);
      Decoded codec =
          requestsOnly
              ? PacketCodec.decodeRequest(ByteString.fromArray(json))
              : PacketCodec.decode(ByteString.fromArray(json));
      if (!jackson.equals(codec)) {
        return new String(json, UTF_8) + ": Jackson " + jackson + ", codec " + codec;
      }
    }
    return null;
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{\"type\": \"0\", \"srcid\": \"1\", \"privPoliId\": \"111\", \"payload\": \"hello\"}",
        "{\"type\":\"0\",\"srcid\":\"client-7\",\"privPoliId\":\"222\",\"payload\":\"x y z\"}",
        " \r\n\t{ \"type\" : \"0\" , \"srcid\" : 12 , \"privPoliId\" : 111 , \"payload\" : \"p\" } \n",
        "{\"type\": \"0\", \"srcid\": -0, \"privPoliId\": \"1\", \"payload\": \"\"}",
        "{\"type\": \"0\", \"srcid\": 1234567890123456789, \"privPoliId\": \"1\", \"payload\": \"a\"}",
        "{\"type\": \"0\", \"srcid\": \"1\", \"privPoliId\": \"111\", \"payload\": \"abc\","
            + " \"payloadsize\": 3, \"extra\": \"ignored\", \"more\": 5}",
        "{\"type\": \"1\", \"id\": \"100\", \"privPolyId\": \"111\", \"listenport\": 5001}",
        "{\"type\": \"2\", \"srcid\": \"100\", \"destid\": \"1\", \"payload\": \"ab\"}",
        "{\"type\": \"3\", \"destid\": \"1\", \"code\": \"timeout\", \"message\": \"slow\"}",
        "{\"type\": \"7\"}",
        "{\"type\": \"0\", \"privPoliId\": \"111\", \"payload\": \"no srcid\"}",
        "{\"type\": \"0\", \"srcid\": \"1\", \"privPoliId\": \"1 1\", \"payload\": \"bad policy\"}",
        "{\"type\": \"0\", \"srcid\": \"1\", \"privPoliId\": \"1\", \"payload\": \"a\", \"payloadsize\": 2}",
        "{}",
        " {} ",
        "{\"\": \"empty key\", \"type\": \"0\"}",
        "{\"type\": \"0\", \"srcid\": \"\u007f\", \"privPoliId\": \"1\", \"payload\": \"{}[],:\"}"
      })
  void readsPlainObjectsItselfAndAgreesWithJackson(String json) {
    assertTrue(readsItself(json), json);
    assertSameAsJackson(json.getBytes(UTF_8));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        // Not plain: escapes, non-ASCII, other value kinds, long numbers and keys.
        "{\"type\": \"0\", \"srcid\": \"1\", \"privPoliId\": \"1\", \"payload\": \"a\\nb\"}",
        "{\"type\": \"0\", \"srcid\": \"1\", \"privPoliId\": \"1\", \"payload\": \"\\u00e9\"}",
        "{\"ty\\u0070e\": \"0\"}",
        "{\"type\": \"0\", \"srcid\": \"1\", \"privPoliId\": \"1\", \"payload\": \"caf\u00e9\"}",
        "{\"type\": \"0\", \"srcid\": null, \"privPoliId\": \"1\", \"payload\": \"a\"}",
        "{\"type\": \"0\", \"srcid\": true, \"privPoliId\": \"1\", \"payload\": \"a\"}",
        "{\"type\": \"0\", \"srcid\": 1.5, \"privPoliId\": \"1\", \"payload\": \"a\"}",
        "{\"type\": \"0\", \"srcid\": 1e3, \"privPoliId\": \"1\", \"payload\": \"a\"}",
        "{\"type\": \"0\", \"srcid\": 12345678901234567890, \"privPoliId\": \"1\", \"payload\": \"a\"}",
        "{\"type\": \"0\", \"srcid\": {\"a\": 1}, \"privPoliId\": \"1\", \"payload\": \"a\"}",
        "{\"type\": \"0\", \"srcid\": [1], \"privPoliId\": \"1\", \"payload\": \"a\"}",
        "{\"type\": \"0\", \"srcid\": \"1\", \"privPoliId\": \"1\", \"payload\": 5}",
        "{\"type\": \"3\", \"destid\": null, \"code\": \"c\", \"message\": \"m\"}",
        // Duplicates: Jackson's words.
        "{\"type\": \"0\", \"type\": \"0\"}",
        "{\"x\": 1, \"x\": 2, \"type\": \"0\"}",
        // Malformed: Jackson's words.
        "{\"type\": \"0\",}",
        "{\"type\": \"0\" \"srcid\": \"1\"}",
        "{\"type\" \"0\"}",
        "{\"type\": 01}",
        "{\"type\": -}",
        "{\"type\": 1a}",
        "{\"type\": \"0\"} x",
        "{\"type\": \"0\"} {}",
        "{\"type\": \"0\"",
        "{\"type\": \"0",
        "{\"type\": \"0\", ",
        "{'type': '0'}",
        "{type: \"0\"}",
        "[1]",
        "\"type\"",
        "",
        "  ",
        "{\"type\": \"a\tb\"}",
        "{\"type\"\u0000: \"0\"}",
        "/* c */ {\"type\": \"0\"}"
      })
  void leavesEverythingElseToJacksonAndTheAnswerIsJacksons(String json) {
    assertFalse(readsItself(json), json);
    assertSameAsJackson(json.getBytes(UTF_8));
  }

  @Test
  void anObjectLargerThanItsLimitIsJacksons() {
    String head = "{\"type\": \"0\", \"srcid\": \"1\", \"privPoliId\": \"1\", \"payload\": \"";
    String atLimit = head + "a".repeat(PlainObjectReader.MAX_BYTES - head.length() - 2) + "\"}";
    assertEquals(PlainObjectReader.MAX_BYTES, atLimit.length());
    assertTrue(readsItself(atLimit));
    String over = head + "a".repeat(PlainObjectReader.MAX_BYTES - head.length() - 1) + "\"}";
    assertFalse(readsItself(over));
    assertSameAsJackson(over.getBytes(UTF_8));
    // Jackson refuses a name over its own limit of 50,000 bytes; a frame may hold one.
    byte[] huge = ("{\"" + "k".repeat(50_001) + "\": 1, \"type\": \"0\"}").getBytes(UTF_8);
    assertSameAsJackson(huge);
    assertEquals(
        ErrorCode.MALFORMED_JSON,
        ((Decoded.Refused) PacketCodec.decodeWithJackson(huge, true)).code());
  }

  @Test
  void invalidUtf8IsStillRefusedByTheJacksonPath() {
    byte[] overlong =
        "{\"type\": \"0\", \"srcid\": \"1\", \"privPoliId\": \"1\", \"payload\": \"__\"}"
            .getBytes(UTF_8);
    int at = new String(overlong, UTF_8).indexOf("__");
    overlong[at] = (byte) 0xC0;
    overlong[at + 1] = (byte) 0x80;
    assertFalse(PlainObjectReader.read(overlong, new PacketFields()));
    Decoded decoded = PacketCodec.decodeRequest(ByteString.fromArray(overlong));
    assertEquals(ErrorCode.MALFORMED_JSON, ((Decoded.Refused) decoded).code());
    assertSameAsJackson(overlong);
  }

  /**
   * Every input of the fuzz corpus (random, mutated and truncated packets) decodes as Jackson's.
   */
  @Test
  void theFuzzCorpusDecodesExactlyAsWithJacksonAlone() {
    Corpus generator = new Corpus(Corpus.SEED, Corpus.LIMIT, true);
    List<Input> inputs = new ArrayList<>(generator.truncationsAtEveryPosition(15));
    for (int n = 0; n < 9_000; n++) {
      inputs.add(generator.next(inputs.size()));
    }
    int plain = 0;
    List<String> failures = new ArrayList<>();
    for (Input input : inputs) {
      if (PlainObjectReader.read(input.bytes(), new PacketFields())) {
        plain++;
      }
      String difference = difference(input.bytes());
      if (difference != null) {
        failures.add(input + ": " + difference);
      }
    }
    assertEquals(
        List.of(),
        failures.subList(0, Math.min(5, failures.size())),
        failures.size() + " differ (seed " + Corpus.SEED + ")");
    // The corpus is mostly not plain (escapes, UTF-8, odd values): the test below covers more.
    assertTrue(plain > 100, "only " + plain + " of " + inputs.size() + " inputs were plain");
  }

  /**
   * Random plain packets (any key order, spacing, strings or integers, extra and repeated keys),
   * each also cut at every length and with single bytes replaced by JSON's structural ones: the
   * edges of what the fast path reads, which the fuzz corpus seldom reaches.
   */
  @Test
  void plainPacketsAndTheirMutationsDecodeExactlyAsWithJacksonAlone() {
    java.util.Random random = new java.util.Random(Corpus.SEED);
    String[] keys = {
      "type",
      "srcid",
      "privPoliId",
      "payload",
      "payloadsize",
      "destid",
      "id",
      "privPolyId",
      "listenport",
      "connections",
      "token",
      "code",
      "message",
      "extra",
      ""
    };
    String[] values = {
      "\"0\"",
      "\"1\"",
      "\"2\"",
      "\"3\"",
      "\"111\"",
      "7",
      "-3",
      "0",
      "\"hello world\"",
      "\"\"",
      "\"{}[],:\"",
      "5001",
      "00",
      "1.0",
      "null",
      "\"a\\\"b\""
    };
    String[] spaces = {"", " ", "  ", "\n", "\t", "\r\n"};
    byte[] structural = "{}[]\":, \\0-9a\u0000".getBytes(UTF_8);
    int plain = 0;
    int checked = 0;
    List<String> failures = new ArrayList<>();
    for (int n = 0; n < 1_500; n++) {
      StringBuilder json = new StringBuilder(spaces[random.nextInt(spaces.length)]).append('{');
      int members = random.nextInt(7);
      for (int m = 0; m < members; m++) {
        if (m > 0) {
          json.append(spaces[random.nextInt(spaces.length)]).append(',');
        }
        String key = m == 0 && random.nextInt(4) > 0 ? "type" : keys[random.nextInt(keys.length)];
        String value = values[random.nextInt(random.nextInt(4) == 0 ? values.length : 12)];
        json.append(spaces[random.nextInt(spaces.length)])
            .append('"')
            .append(key)
            .append('"')
            .append(spaces[random.nextInt(spaces.length)])
            .append(':')
            .append(spaces[random.nextInt(spaces.length)])
            .append(value);
      }
      json.append(spaces[random.nextInt(spaces.length)])
          .append('}')
          .append(spaces[random.nextInt(spaces.length)]);
      byte[] whole = json.toString().getBytes(UTF_8);
      List<byte[]> variants = new ArrayList<>();
      variants.add(whole);
      for (int cut = 0; cut < whole.length; cut++) {
        variants.add(java.util.Arrays.copyOf(whole, cut));
      }
      for (int k = 0; k < 6 && whole.length > 0; k++) {
        byte[] changed = whole.clone();
        changed[random.nextInt(changed.length)] = structural[random.nextInt(structural.length)];
        variants.add(changed);
      }
      for (byte[] bytes : variants) {
        checked++;
        if (PlainObjectReader.read(bytes, new PacketFields())) {
          plain++;
        }
        String difference = difference(bytes);
        if (difference != null) {
          failures.add(difference);
        }
      }
    }
    assertEquals(
        List.of(),
        failures.subList(0, Math.min(5, failures.size())),
        failures.size() + " of " + checked + " differ");
    assertTrue(plain > 1_000, "only " + plain + " of " + checked + " were read by the fast path");
    assertTrue(plain < checked - 10_000, plain + " of " + checked + " were read by the fast path");
  }
}
