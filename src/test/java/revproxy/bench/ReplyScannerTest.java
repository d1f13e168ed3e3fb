package revproxy.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The generator's reply framing and field reading: any segmentation, exact comparisons. */
class ReplyScannerTest {

  private static final String REPLY =
      "{\"type\": \"2\", \"srcid\": \"100\", \"destid\": \"3-17\", \"payloadsize\": 40, "
          + "\"payload\": \"02507026f1cd2e04059c1ee524381f1aa785661c\"}";
  private static final String TRICKY =
      "{\"type\": \"3\", \"destid\": null, \"code\": \"not_json\", \"message\": \"a } and a \\\" {\"}";

  /** Feeds {@code text} in chunks of {@code chunk} bytes; returns the objects and garbage runs. */
  private static List<String> scan(String text, int chunk, int max) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    ReplyScanner scanner = new ReplyScanner(64, max);
    List<String> found = new ArrayList<>();
    ReplyScanner.Handler handler = recorder(found);
    for (int i = 0; i < bytes.length; i += chunk) {
      int length = Math.min(chunk, bytes.length - i);
      int offset = 0;
      while (offset < length) {
        ByteBuffer buffer = scanner.readBuffer();
        int n = Math.min(buffer.remaining(), length - offset);
        buffer.put(bytes, i + offset, n);
        offset += n;
        if (!scanner.scan(handler)) {
          found.add("TOO_LARGE");
          return found;
        }
      }
    }
    return found;
  }

  /** Records objects as text and garbage runs as "GARBAGE". */
  private static ReplyScanner.Handler recorder(List<String> found) {
    return new ReplyScanner.Handler() {
      @Override
      public void onObject(byte[] b, int start, int end) {
        found.add(new String(b, start, end - start, StandardCharsets.UTF_8));
      }

      @Override
      public void onGarbage() {
        found.add("GARBAGE");
      }
    };
  }

  @Test
  void objectsAreFoundWhateverTheSegmentation() {
    String stream = REPLY + " \n" + TRICKY + REPLY + "\t" + REPLY;
    for (int chunk : new int[] {1, 2, 3, 7, 50, 100, 4096}) {
      assertEquals(
          List.of(REPLY, TRICKY, REPLY, REPLY), scan(stream, chunk, 65536), "chunk " + chunk);
    }
  }

  @Test
  void bytesOutsideObjectsAreGarbage() {
    assertEquals(List.of("GARBAGE", REPLY), scan("oops" + REPLY, 4096, 65536));
  }

  @Test
  void anObjectOverTheLimitIsRefused() {
    List<String> found = scan("{\"payload\": \"" + "x".repeat(500) + "\"}", 16, 200);
    assertEquals(List.of("TOO_LARGE"), found);
  }

  /** The proxy's limit, per object: exactly the limit passes, one byte more does not. */
  @Test
  void theLimitIsExactWhateverTheReadSize() {
    String atLimit = "{\"payload\": \"" + "x".repeat(985) + "\"}";
    assertEquals(1000, atLimit.length());
    String overLimit = "{\"payload\": \"" + "x".repeat(986) + "\"}";
    for (int chunk : new int[] {1, 100, 999, 1000, 4096}) {
      assertEquals(List.of(atLimit, REPLY), scan(atLimit + REPLY, chunk, 1000), "chunk " + chunk);
      assertEquals(
          List.of(REPLY, "TOO_LARGE"), scan(REPLY + overLimit, chunk, 1000), "chunk " + chunk);
    }
  }

  @Test
  void aGarbageRunIsReportedOncePerRead() {
    assertEquals(List.of("GARBAGE", "GARBAGE", REPLY), scan("oops" + REPLY, 2, 65536));
    assertEquals(List.of(REPLY, "GARBAGE", REPLY), scan(REPLY + " } \n" + REPLY, 4096, 65536));
  }

  @Test
  void resetStartsAfreshAfterAnUnfinishedOrTooLargeObject() {
    ReplyScanner scanner = new ReplyScanner(256, 100);
    List<String> found = new ArrayList<>();
    ReplyScanner.Handler handler = recorder(found);
    scanner.readBuffer().put("{\"a\": \"".getBytes(StandardCharsets.UTF_8));
    assertTrue(scanner.scan(handler));
    scanner.reset();
    scanner.readBuffer().put("{\"b\": 1}".getBytes(StandardCharsets.UTF_8));
    assertTrue(scanner.scan(handler));
    String tooLarge = "{\"c\": \"" + "x".repeat(100) + "\"}";
    scanner.readBuffer().put(tooLarge.getBytes(StandardCharsets.UTF_8));
    assertFalse(scanner.scan(handler));
    scanner.reset();
    scanner.readBuffer().put("{\"d\": 2}".getBytes(StandardCharsets.UTF_8));
    assertTrue(scanner.scan(handler));
    assertEquals(List.of("{\"b\": 1}", "{\"d\": 2}"), found);
  }

  @Test
  void fieldsAreReadAndComparedExactly() {
    ReplyFields fields = new ReplyFields();
    byte[] reply = REPLY.getBytes(StandardCharsets.US_ASCII);
    assertTrue(fields.parse(reply, 0, reply.length));
    assertEquals('2', fields.type());
    assertTrue(fields.isString(ReplyFields.DESTID, ReplyFields.ascii("3-17")));
    assertFalse(fields.isString(ReplyFields.DESTID, ReplyFields.ascii("3-1")));
    assertFalse(fields.isString(ReplyFields.DESTID, ReplyFields.ascii("3-170")));
    assertTrue(
        fields.isString(
            ReplyFields.PAYLOAD, ReplyFields.ascii("02507026f1cd2e04059c1ee524381f1aa785661c")));
    assertFalse(
        fields.isString(
            ReplyFields.PAYLOAD, ReplyFields.ascii("02507026F1CD2E04059C1EE524381F1AA785661C")));
  }

  @Test
  void escapedValuesMatchWhatTheyDecodeTo() {
    ReplyFields fields = new ReplyFields();
    byte[] reply =
        "{\"type\":2,\"destid\":\"3\\u002d17\",\"nested\":{\"a\":[1,\"}\"]},\"payload\":\"ab\"}"
            .getBytes(StandardCharsets.US_ASCII);
    assertTrue(fields.parse(reply, 0, reply.length));
    assertEquals('2', fields.type());
    assertTrue(fields.isString(ReplyFields.DESTID, ReplyFields.ascii("3-17")));
    assertTrue(fields.isString(ReplyFields.PAYLOAD, ReplyFields.ascii("ab")));
  }

  @Test
  void aNumberIsNotAString() {
    ReplyFields fields = new ReplyFields();
    byte[] reply = "{\"type\": \"2\", \"destid\": 17}".getBytes(StandardCharsets.US_ASCII);
    assertTrue(fields.parse(reply, 0, reply.length));
    assertFalse(fields.isString(ReplyFields.DESTID, ReplyFields.ascii("17")));
  }

  @Test
  void errorCodesAreRead() {
    ReplyFields fields = new ReplyFields();
    byte[] reply = TRICKY.getBytes(StandardCharsets.US_ASCII);
    assertTrue(fields.parse(reply, 0, reply.length));
    assertEquals('3', fields.type());
    assertEquals("not_json", fields.text(ReplyFields.CODE));
  }

  @Test
  void malformedObjectsAreRejected() {
    ReplyFields fields = new ReplyFields();
    for (String bad :
        new String[] {
          "{\"type\" \"2\"}", "{\"type\": }", "{type: 2}", "{\"a\": 1,}", "{\"a\": \"x}"
        }) {
      byte[] bytes = bad.getBytes(StandardCharsets.US_ASCII);
      assertFalse(fields.parse(bytes, 0, bytes.length), bad);
    }
  }
}
