package revproxy.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.util.ByteString;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the stage relies on from its framer, without a stream around it. */
class FramerTest {

  @Test
  void objectsAreSlicedOutOfChunksMadeOfSeveralBuffers() {
    Framer framer = new Framer(1024);
    ByteString chunk =
        bytes("{\"a\":1} {\"b\"").concat(bytes(":[2]} junk")).concat(bytes(" {\"c\":"));
    assertEquals(3, chunk.asByteBuffers().size());
    framer.offer(chunk);
    framer.offer(bytes("3").concat(bytes("} {}")));
    assertEquals(
        List.of(
            json("{\"a\":1}"),
            json("{\"b\":[2]}"),
            new Frame.Garbage("expected '{' but found 'j' (4 bytes skipped)"),
            json("{\"c\":3}"),
            json("{}")),
        drain(framer));
  }

  @Test
  void anObjectOverManyChunksIsOneFrame() {
    Framer framer = new Framer(1024);
    for (String piece : new String[] {"  {\"a\"", ":\"b", "c\"}{", "\"d\":{", "}", "}  "}) {
      framer.offer(bytes(piece));
    }
    assertEquals(List.of(json("{\"a\":\"bc\"}"), json("{\"d\":{}}")), drain(framer));
  }

  @Test
  void itSaysWhetherTheOpenObjectBeganInTheLastChunk() {
    Framer framer = new Framer(1024);
    framer.offer(bytes("{\"a\""));
    assertTrue(framer.inObject());
    assertTrue(framer.objectStartedInLastChunk());
    framer.offer(bytes(":1"));
    assertTrue(framer.inObject());
    assertFalse(framer.objectStartedInLastChunk());
    framer.offer(ByteString.emptyByteString());
    assertFalse(framer.objectStartedInLastChunk());
    framer.offer(bytes("}{\"b\":"));
    assertTrue(framer.inObject());
    assertTrue(framer.objectStartedInLastChunk());
    framer.offer(bytes("2}"));
    assertFalse(framer.inObject());
    assertEquals(List.of(json("{\"a\":1}"), json("{\"b\":2}")), drain(framer));
  }

  @Test
  void tooLargeIsTheLastFrameAndLaterInputIsIgnored() {
    Framer framer = new Framer(16);
    framer.offer(bytes("{\"a\":1} {\"too\":\"long for sixteen\"}{\"b\":2}"));
    assertTrue(framer.ended());
    assertFalse(framer.inObject());
    framer.offer(bytes("{\"c\":3} junk"));
    framer.finish();
    assertEquals(List.of(json("{\"a\":1}"), new Frame.TooLarge(16)), drain(framer));
  }

  @Test
  void aTimeoutEndsTheFramesAfterThoseAlreadyCut() {
    Framer framer = new Framer(1024);
    framer.offer(bytes("{\"a\":1} {\"type\": \"0\", \"payl"));
    framer.timedOut(Duration.ofMillis(200));
    assertTrue(framer.ended());
    assertFalse(framer.inObject());
    framer.offer(bytes("oad\": \"x\"}"));
    framer.finish();
    assertEquals(
        List.of(json("{\"a\":1}"), new Frame.Incomplete(Duration.ofMillis(200))), drain(framer));
  }

  @Test
  void theEndOfInputInsideAnObjectIsALastGarbageFrame() {
    Framer framer = new Framer(1024);
    framer.offer(bytes("{\"a\":1}{\"b\":"));
    framer.offer(bytes("{\"c\":\"}"));
    framer.finish();
    assertEquals(
        List.of(
            json("{\"a\":1}"),
            new Frame.Garbage("connection closed inside an unfinished JSON object (12 bytes)")),
        drain(framer));
    assertNull(framer.poll());
  }

  private static List<Frame> drain(Framer framer) {
    List<Frame> frames = new ArrayList<>();
    while (framer.hasFrames()) {
      frames.add(framer.poll());
    }
    return frames;
  }

  private static ByteString bytes(String text) {
    return ByteString.fromString(text);
  }

  private static Frame json(String text) {
    return new Frame.Json(bytes(text));
  }
}
