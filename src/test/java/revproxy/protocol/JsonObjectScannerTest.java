package revproxy.protocol;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import revproxy.protocol.JsonObjectScanner.Event;

/** The scanner on its own: plain byte arrays, no stream, every chunking. */
class JsonObjectScannerTest {

  @Test
  void oneObjectEndsWhereItsClosingBraceIs() {
    JsonObjectScanner scanner = new JsonObjectScanner(1024);
    ByteBuffer buffer = ascii(" \n{\"a\":1}  ");
    assertEquals(Event.OBJECT, scanner.next(buffer));
    assertEquals(9, buffer.position());
    assertEquals(7, scanner.objectLength());
    assertFalse(scanner.inObject());
    assertEquals(Event.NEED_INPUT, scanner.next(buffer));
    assertEquals(11, buffer.position());
    assertFalse(scanner.endOfChunk());
  }

  @Test
  void manyObjectsInOneChunk() {
    StringBuilder stream = new StringBuilder();
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 150; i++) {
      String object = "{\"id\":" + i + ",\"k\":{\"n\":[" + i + "]}}";
      stream.append(object).append(i % 3 == 0 ? "\r\n" : i % 3 == 1 ? "\t " : "");
      expected.add("object " + object);
    }
    assertEquals(expected, scan(64, stream.toString()));
  }

  @Test
  void byteByByteFindsWhatOneChunkFinds() {
    String stream =
        "{\"p\":\"a}\\\"{\\\\\"}\n"
            + "{\"q\":\"\\\\\\\\\",\"r\":\"{{{\"} {\"a\":{\"b\":[1,{\"c\":[]}]}}";
    List<String> whole = scan(1024, stream);
    assertEquals(
        List.of(
            "object {\"p\":\"a}\\\"{\\\\\"}",
            "object {\"q\":\"\\\\\\\\\",\"r\":\"{{{\"}",
            "object {\"a\":{\"b\":[1,{\"c\":[]}]}}"),
        whole);
    assertEquals(whole, scan(1024, oneBytePerChunk(stream.getBytes(UTF_8))));
    for (int cut = 0; cut <= stream.length(); cut++) {
      assertEquals(
          whole, scan(1024, stream.substring(0, cut), stream.substring(cut)), "cut " + cut);
    }
  }

  @Test
  void bracesAndQuotesCountOnlyOutsideStrings() {
    assertEquals(List.of("object {\"a\":\"}\"}"), scan(1024, "{\"a\":\"}\"}"));
    assertEquals(List.of("object {\"a\":\"{\"}"), scan(1024, "{\"a\":\"{\"}"));
    assertEquals(List.of("object {\"}\":{\"{\":\"\"}}"), scan(1024, "{\"}\":{\"{\":\"\"}}"));
  }

  @Test
  void aBackslashEscapesExactlyTheNextByte() {
    // \" does not end the string; \\ does not escape the quote after it.
    assertEquals(List.of("object {\"a\":\"\\\"}\"}"), scan(1024, "{\"a\":\"\\\"}\"}"));
    assertEquals(List.of("object {\"a\":\"\\\\\"}"), scan(1024, "{\"a\":\"\\\\\"}"));
    assertEquals(List.of("object {\"a\":\"\\\\\\\"}\"}"), scan(1024, "{\"a\":\"\\\\\\\"}\"}"));
    // Outside strings a backslash is just a byte of a malformed object.
    assertEquals(List.of("object {\\}"), scan(1024, "{\\}"));
    // An escape split over chunks still applies to the byte after it.
    assertEquals(List.of("object {\"a\":\"\\\"}\"}"), scan(1024, "{\"a\":\"\\", "\"}\"}"));
  }

  @Test
  void bracketsAreNotCounted() {
    assertEquals(List.of("object {\"a\":[}", "garbage ']' 1"), scan(1024, "{\"a\":[}]"));
    assertEquals(List.of("object {\"a\":]}"), scan(1024, "{\"a\":]}"));
  }

  @Test
  void multiByteUtf8IsPlainBytesInsideAndGarbageOutside() {
    String object = "{\"text\":\"héllo ✓ 😀\",\"k\":\"ü}\"}";
    byte[] bytes = object.getBytes(UTF_8);
    assertEquals(List.of("object " + object), scan(1024, oneBytePerChunk(bytes)));
    assertEquals(List.of("object " + object), scan(1024, bytes));
    assertEquals(List.of("garbage 0xC3 2", "object {}"), scan(1024, "é{}"));
    assertEquals(List.of("garbage 0xF0 4", "object {}"), scan(1024, "😀{}"));
  }

  @Test
  void anObjectOfExactlyTheLimitPasses() {
    String object = "{\"a\":\"" + "x".repeat(24) + "\"}";
    assertEquals(32, object.length());
    assertEquals(List.of("object " + object, "object " + object), scan(32, object + object));
    assertEquals(List.of("object " + object), scan(32, oneBytePerChunk(object.getBytes(UTF_8))));
  }

  @Test
  void theByteOnePastTheLimitIsTooLargeAndTheScannerStops() {
    String object = "{\"a\":\"" + "x".repeat(25) + "\"}";
    assertEquals(33, object.length());
    JsonObjectScanner scanner = new JsonObjectScanner(32);
    ByteBuffer buffer = ascii("{}  " + object + "{}");
    assertEquals(Event.OBJECT, scanner.next(buffer));
    assertEquals(Event.TOO_LARGE, scanner.next(buffer));
    assertEquals(4 + 33, buffer.position());
    assertFalse(scanner.inObject());
    assertEquals(Event.TOO_LARGE, scanner.next(buffer));
    assertEquals(4 + 33, buffer.position());
    assertEquals(List.of("too large at 33"), scan(32, oneBytePerChunk(object.getBytes(UTF_8))));
  }

  @Test
  void theLimitCountsBytesNotCharacters() {
    String object = "{\"a\":\"" + "€".repeat(8) + "\"}";
    assertEquals(32, object.getBytes(UTF_8).length);
    assertEquals(List.of("object " + object), scan(32, object));
    assertEquals(List.of("too large at 32"), scan(31, object));
  }

  @Test
  void theLimitIsPerObjectNotPerChunk() {
    String object = "{\"id\":00000000,\"op\":\"put\",\"payload\":\"abcdefghijklmnopqrstu\"}";
    String chunk = (object + "\n").repeat(2000);
    List<String> found = scan(object.length(), chunk);
    assertEquals(2000, found.size());
    assertEquals("object " + object, found.get(1999));
  }

  @Test
  void garbageCountsFromItsFirstToItsLastNonWhitespaceByte() {
    assertEquals(
        List.of("object {\"a\":1}", "garbage 'x' 8", "object {\"b\":2}"),
        scan(1024, "{\"a\":1}\n  xx yy\tzz \r\n{\"b\":2}"));
    assertEquals(List.of("garbage '}' 1", "object {}"), scan(1024, " } {}"));
    assertEquals(
        List.of("garbage 0x00 2", "object {}"), scan(1024, new byte[] {0, -1, ' ', '{', '}'}));
  }

  @Test
  void garbageEndsAtTheNextBraceWhichIsNotConsumed() {
    JsonObjectScanner scanner = new JsonObjectScanner(1024);
    ByteBuffer buffer = ascii("hello  {}");
    assertEquals(Event.GARBAGE, scanner.next(buffer));
    assertEquals(7, buffer.position());
    assertEquals('h', scanner.garbageFirst());
    assertEquals(5, scanner.garbageLength());
    assertFalse(scanner.inObject());
    assertEquals(Event.OBJECT, scanner.next(buffer));
    assertEquals(2, scanner.objectLength());
    assertEquals(Event.NEED_INPUT, scanner.next(buffer));
    assertFalse(scanner.endOfChunk());
  }

  @Test
  void garbageAtTheEndOfAChunkEndsThere() {
    JsonObjectScanner scanner = new JsonObjectScanner(1024);
    ByteBuffer buffer = ascii("hello\r\n");
    assertEquals(Event.NEED_INPUT, scanner.next(buffer));
    assertTrue(scanner.endOfChunk());
    assertEquals('h', scanner.garbageFirst());
    assertEquals(5, scanner.garbageLength());
    assertFalse(scanner.endOfChunk());
  }

  @Test
  void aGarbageRunSplitOverChunksIsOneRunPerChunk() {
    assertEquals(List.of("garbage 'h' 3", "garbage 'l' 2", "object {}"), scan(1024, "hel", "lo{}"));
    assertEquals(
        List.of("garbage 'a' 1", "garbage 'b' 1", "object {}"), scan(1024, "a ", " ", "  b{}"));
    assertEquals(
        List.of("garbage 'x' 1", "garbage 'y' 1", "garbage 'z' 1"),
        scan(1024, oneBytePerChunk("xyz".getBytes(UTF_8))));
  }

  @Test
  void whitespaceAloneIsNothing() {
    assertEquals(List.of(), scan(1024, " \r\n", "\t\t", "\n", ""));
  }

  @Test
  void anUnfinishedObjectIsOpenAtTheEndWithItsLength() {
    assertEquals(
        List.of("object {\"a\":1}", "open 12"), scan(1024, "{\"a\":1}{\"b\":", "{\"c\":\"}"));
    assertEquals(List.of("open 1"), scan(1024, "  {"));
    assertEquals(List.of("open 9"), scan(1024, oneBytePerChunk("{\"s\":\"}}}".getBytes(UTF_8))));
  }

  @Test
  void resetForgetsAnOpenOrTooLargeObject() {
    JsonObjectScanner scanner = new JsonObjectScanner(4);
    assertEquals(Event.NEED_INPUT, scanner.next(ascii("{\"a\"")));
    assertTrue(scanner.inObject());
    scanner.reset();
    assertFalse(scanner.inObject());
    assertEquals(Event.OBJECT, scanner.next(ascii("{}")));
    assertEquals(Event.TOO_LARGE, scanner.next(ascii("{\"ab\"}")));
    scanner.reset();
    assertEquals(Event.NEED_INPUT, scanner.next(ascii("x ")));
    assertTrue(scanner.endOfChunk());
    assertEquals(Event.OBJECT, scanner.next(ascii("{\"\"}")));
  }

  // ------------------------------------------------------------------------------ helpers

  private static List<String> scan(int max, String... chunks) {
    return scan(max, Arrays.stream(chunks).map(c -> c.getBytes(UTF_8)).toList());
  }

  private static List<String> scan(int max, byte[] bytes) {
    return scan(max, List.of(bytes));
  }

  /**
   * Feeds the chunks in order, ending each with {@link JsonObjectScanner#endOfChunk()}; returns
   * what was found, an object as its bytes (read back from the stream by its end and length).
   */
  private static List<String> scan(int max, List<byte[]> chunks) {
    JsonObjectScanner scanner = new JsonObjectScanner(max);
    List<String> found = new ArrayList<>();
    ByteArrayOutputStream stream = new ByteArrayOutputStream();
    for (byte[] chunk : chunks) {
      int chunkStart = stream.size();
      stream.writeBytes(chunk);
      ByteBuffer buffer = ByteBuffer.wrap(chunk);
      for (Event event; (event = scanner.next(buffer)) != Event.NEED_INPUT; ) {
        int end = chunkStart + buffer.position();
        switch (event) {
          case OBJECT -> {
            int length = scanner.objectLength();
            found.add("object " + new String(stream.toByteArray(), end - length, length, UTF_8));
          }
          case GARBAGE -> found.add(garbage(scanner));
          case TOO_LARGE -> {
            found.add("too large at " + end);
            return found;
          }
        }
      }
      if (scanner.endOfChunk()) {
        found.add(garbage(scanner));
      }
    }
    if (scanner.inObject()) {
      found.add("open " + scanner.objectLength());
    }
    return found;
  }

  private static String garbage(JsonObjectScanner scanner) {
    byte first = scanner.garbageFirst();
    String shown =
        first > ' ' && first < 0x7F
            ? "'" + (char) first + "'"
            : String.format("0x%02X", first & 0xFF);
    return "garbage " + shown + " " + scanner.garbageLength();
  }

  private static List<byte[]> oneBytePerChunk(byte[] bytes) {
    List<byte[]> chunks = new ArrayList<>();
    for (byte b : bytes) {
      chunks.add(new byte[] {b});
    }
    return chunks;
  }

  private static ByteBuffer ascii(String text) {
    return ByteBuffer.wrap(text.getBytes(UTF_8));
  }
}
