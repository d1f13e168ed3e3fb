package revproxy.protocol;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.japi.Pair;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.stream.testkit.TestPublisher;
import akka.stream.testkit.TestSubscriber;
import akka.stream.testkit.javadsl.TestSink;
import akka.stream.testkit.javadsl.TestSource;
import akka.util.ByteString;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import revproxy.cluster.NodeConfig;

class PacketFramingTest {

  private static ActorSystem<Void> system;

  @BeforeAll
  static void start() {
    // The shipped configuration sets up a cluster; this test needs only a local system.
    Config local =
        ConfigFactory.parseString("akka.actor.provider = local")
            .withFallback(NodeConfig.defaults());
    system = ActorSystem.create(Behaviors.empty(), "PacketFramingTest", local);
  }

  @AfterAll
  static void stop() {
    system.terminate();
  }

  @Test
  void oneObject() throws Exception {
    assertEquals(List.of("json:{\"a\":1}"), show(run(1024, "{\"a\":1}")));
  }

  @Test
  void recordEqualityOfAJsonFrame() throws Exception {
    assertEquals(List.of(new Frame.Json(ByteString.fromString("{}"))), run(1024, " {}"));
  }

  @Test
  void twoObjectsInOneChunkBackToBack() throws Exception {
    assertEquals(
        List.of("json:{\"a\":1}", "json:{\"b\":2}"), show(run(1024, "{\"a\":1}{\"b\":2}")));
  }

  @Test
  void twoObjectsInOneChunkWithWhitespaceBetween() throws Exception {
    assertEquals(
        List.of("json:{\"a\":1}", "json:{\"b\":2}"),
        show(run(1024, "\r\n {\"a\":1}\n\t \r\n{\"b\":2}\n")));
  }

  @Test
  void whitespaceAloneYieldsNothing() throws Exception {
    assertEquals(List.of(), run(1024, " \r\n", "\t\t", "\n"));
  }

  @Test
  void objectSplitByteByByte() throws Exception {
    String packet = "{\"op\":\"get\",\"args\":{\"k\":[1,2,{\"x\":\"}\"}]}}";
    List<ByteString> chunks = oneBytePerChunk(ByteString.fromString(packet + "\n" + packet));
    assertEquals(List.of("json:" + packet, "json:" + packet), show(runBytes(1024, chunks)));
  }

  @Test
  void objectSplitOverUnevenChunks() throws Exception {
    assertEquals(
        List.of("json:{\"a\":\"bc\"}", "json:{\"d\":{}}"),
        show(run(1024, "  {\"a\"", ":\"b", "c\"}{", "\"d\":{", "}", "}  ")));
  }

  @Test
  void oneHundredFiftySmallObjectsInOneChunk() throws Exception {
    StringBuilder chunk = new StringBuilder();
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 150; i++) {
      String packet = "{\"id\":" + i + "}";
      chunk.append(packet);
      if (i % 3 == 0) {
        chunk.append('\n');
      }
      expected.add("json:" + packet);
    }
    assertEquals(expected, show(run(64, chunk.toString())));
  }

  /** The akka/akka#31569 case: the limit must apply per object, not to the buffered chunk. */
  @Test
  void hundredKilobyteChunkOfSmallObjectsWithSmallLimit() throws Exception {
    StringBuilder chunk = new StringBuilder();
    List<String> expected = new ArrayList<>();
    for (int i = 0; chunk.length() < 100 * 1024; i++) {
      String packet =
          String.format("{\"id\":%08d,\"op\":\"put\",\"payload\":\"abcdefghijklmnopqrstu\"}", i);
      chunk.append(packet).append('\n');
      expected.add("json:" + packet);
    }
    assertEquals("json:".length() + 60, expected.get(0).length());
    List<Frame> frames = run(1024, chunk.toString());
    assertEquals(expected.size(), frames.size());
    assertEquals(expected, show(frames));
  }

  @Test
  void bracesQuotesAndBackslashesInsideStrings() throws Exception {
    String tricky = "{\"p\":\"a}\\\"{\\\\\"}";
    assertEquals("{\"p\":\"a}\\\"{\\\\\"}", tricky);
    String next = "{\"q\":\"\\\\\\\\\",\"r\":\"{{{\"}";
    List<String> expected = List.of("json:" + tricky, "json:" + next);
    assertEquals(expected, show(run(1024, tricky + next)));
    assertEquals(
        expected, show(runBytes(1024, oneBytePerChunk(ByteString.fromString(tricky + next)))));
  }

  @Test
  void nestedObjectsAndArrays() throws Exception {
    String first = "{\"a\":{\"b\":[1,{\"c\":[]},[[{}]]]},\"d\":\"}\",\"e\":{\"f\":{\"g\":{}}}}";
    String second = "{\"h\":[{},{\"i\":[]}]}";
    assertEquals(List.of("json:" + first, "json:" + second), show(run(1024, first + " " + second)));
  }

  @Test
  void unicodeSplitInsideMultiByteCharacters() throws Exception {
    String packet = "{\"text\":\"héllo ✓ 😀\",\"k\":\"ü}\"}";
    byte[] bytes = packet.getBytes(StandardCharsets.UTF_8);
    int emoji = indexOf(bytes, (byte) 0xF0);
    List<ByteString> chunks =
        List.of(
            ByteString.fromArray(bytes, 0, emoji + 2),
            ByteString.fromArray(bytes, emoji + 2, bytes.length - emoji - 2));
    assertEquals(List.of("json:" + packet), show(runBytes(1024, chunks)));
    assertEquals(List.of("json:" + packet), show(runBytes(1024, oneBytePerChunk(bytes))));
  }

  @Test
  void objectOfExactlyTheLimitPasses() throws Exception {
    String packet = "{\"a\":\"" + "x".repeat(24) + "\"}";
    assertEquals(32, packet.length());
    assertEquals(List.of("json:" + packet, "json:" + packet), show(run(32, packet + packet)));
  }

  @Test
  void objectOneByteOverTheLimitIsTooLarge() throws Exception {
    String packet = "{\"a\":\"" + "x".repeat(25) + "\"}";
    assertEquals(33, packet.length());
    assertEquals(List.of(new Frame.TooLarge(32)), run(32, packet));
  }

  @Test
  void limitIsCountedAcrossChunks() throws Exception {
    String packet = "{\"a\":\"" + "x".repeat(25) + "\"}";
    List<ByteString> chunks = oneBytePerChunk(ByteString.fromString(packet));
    assertEquals(List.of(new Frame.TooLarge(32)), runBytes(32, chunks));
  }

  @Test
  void tooLargeComesAfterEarlierFramesAndNothingFollowsIt() throws Exception {
    String big = "{\"big\":\"" + "x".repeat(100) + "\"}";
    List<Frame> frames =
        run(64, "{\"a\":1}junk {\"b\":2}" + big + "{\"c\":3}", "{\"d\":4}", "more junk", "{");
    assertEquals(
        List.of(
            "json:{\"a\":1}",
            "garbage:expected '{' but found 'j' (4 bytes skipped)",
            "json:{\"b\":2}",
            "tooLarge:64"),
        show(frames));
  }

  @Test
  void neverEndingStringLargerThanLimitIsTooLarge() throws Exception {
    List<String> chunks = new ArrayList<>();
    chunks.add("{\"s\":\"");
    for (int i = 0; i < 20; i++) {
      chunks.add("}}}}}}}}{{{{" + "\\\"");
    }
    assertEquals(List.of(new Frame.TooLarge(128)), run(128, chunks.toArray(String[]::new)));
  }

  /**
   * After TooLarge the output completes, but the input keeps being pulled (never cancelled), so a
   * TCP connection stays open until the error reply is flushed.
   */
  @Test
  void afterTooLargeOutputCompletesButUpstreamIsDrainedNotCancelled() {
    Pair<TestPublisher.Probe<ByteString>, TestSubscriber.Probe<Frame>> probes =
        TestSource.<ByteString>create(system)
            .via(PacketFraming.flow(16))
            .toMat(TestSink.create(system), Keep.both())
            .run(system);
    TestPublisher.Probe<ByteString> upstream = probes.first();
    TestSubscriber.Probe<Frame> downstream = probes.second();

    downstream.request(10);
    upstream.sendNext(ByteString.fromString("{\"a\":1}{\"too\":\"long for sixteen\"}{\"b\":2}"));
    downstream.expectNext(new Frame.Json(ByteString.fromString("{\"a\":1}")));
    downstream.expectNext(new Frame.TooLarge(16));
    downstream.expectComplete();

    // Each sendNext waits for a request and fails on a cancellation instead; 200 chunks is far more
    // than the stage's input buffer, so they all pass only if the stage keeps pulling.
    for (int i = 0; i < 200; i++) {
      upstream.sendNext(ByteString.fromString("{\"c\":" + i + "}"));
    }
    upstream.sendComplete();
    downstream.expectNoMessage(Duration.ofMillis(100));
  }

  @Test
  void tooLargeWaitsForDemandAndStillDrainsUpstream() {
    Pair<TestPublisher.Probe<ByteString>, TestSubscriber.Probe<Frame>> probes =
        TestSource.<ByteString>create(system)
            .via(PacketFraming.flow(16))
            .toMat(TestSink.create(system), Keep.both())
            .run(system);
    TestPublisher.Probe<ByteString> upstream = probes.first();
    TestSubscriber.Probe<Frame> downstream = probes.second();

    downstream.request(1);
    upstream.sendNext(ByteString.fromString("{}{\"too\":\"long for sixteen\"}"));
    downstream.expectNext(new Frame.Json(ByteString.fromString("{}")));
    for (int i = 0; i < 100; i++) {
      upstream.sendNext(ByteString.fromString("ignored"));
    }
    upstream.sendComplete();
    downstream.expectNoMessage(Duration.ofMillis(100));
    downstream.request(1);
    downstream.expectNext(new Frame.TooLarge(16));
    downstream.expectComplete();
  }

  @Test
  void garbageBeforeAnObject() throws Exception {
    assertEquals(
        List.of("garbage:expected '{' but found 'h' (5 bytes skipped)", "json:{\"a\":1}"),
        show(run(1024, "hello{\"a\":1}")));
  }

  @Test
  void garbageBetweenObjectsCountsFromFirstToLastNonWhitespaceByte() throws Exception {
    assertEquals(
        List.of(
            "json:{\"a\":1}",
            "garbage:expected '{' but found 'x' (8 bytes skipped)",
            "json:{\"b\":2}"),
        show(run(1024, "{\"a\":1}\n  xx yy\tzz \r\n{\"b\":2}")));
  }

  @Test
  void garbageAtEndOfChunkIsReportedWithoutWaitingForMoreBytes() {
    Pair<TestPublisher.Probe<ByteString>, TestSubscriber.Probe<Frame>> probes =
        TestSource.<ByteString>create(system)
            .via(PacketFraming.flow(1024))
            .toMat(TestSink.create(system), Keep.both())
            .run(system);
    probes.second().request(10);
    probes.first().sendNext(ByteString.fromString("hello\r\n"));
    probes.second().expectNext(new Frame.Garbage("expected '{' but found 'h' (5 bytes skipped)"));
    probes.first().sendComplete();
    probes.second().expectComplete();
  }

  @Test
  void garbageRunSplitOverChunksIsOneFramePerChunk() throws Exception {
    assertEquals(
        List.of(
            "garbage:expected '{' but found 'h' (3 bytes skipped)",
            "garbage:expected '{' but found 'l' (2 bytes skipped)",
            "json:{}"),
        show(run(1024, "hel", "lo{}")));
  }

  @Test
  void unmatchedClosingBraceIsGarbage() throws Exception {
    assertEquals(
        List.of(
            "json:{\"a\":1}",
            "garbage:expected '{' but found '}' (1 byte skipped)",
            "json:{\"b\":2}"),
        show(run(1024, "{\"a\":1}}{\"b\":2}")));
  }

  @Test
  void nulAndFfBytesAreGarbageOutsideAndPlainBytesInside() throws Exception {
    byte[] inside = {'{', '"', 'a', '"', ':', '"', (byte) 0xFF, 0x00, (byte) 0xC3, '"', '}'};
    List<ByteString> chunks =
        List.of(
            ByteString.fromArray(new byte[] {0x00, (byte) 0xFF, ' '}),
            ByteString.fromArray(inside),
            ByteString.fromArray(new byte[] {(byte) 0xFF}));
    List<Frame> frames = runBytes(1024, chunks);
    assertEquals(3, frames.size());
    assertEquals(new Frame.Garbage("expected '{' but found 0x00 (2 bytes skipped)"), frames.get(0));
    assertArrayEquals(inside, assertInstanceOf(Frame.Json.class, frames.get(1)).bytes().toArray());
    assertEquals(new Frame.Garbage("expected '{' but found 0xFF (1 byte skipped)"), frames.get(2));
  }

  @Test
  void truncatedObjectAtEndOfStream() throws Exception {
    assertEquals(
        List.of(
            "json:{\"a\":1}",
            "garbage:connection closed inside an unfinished JSON object (12 bytes)"),
        show(run(1024, "{\"a\":1}{\"b\":", "{\"c\":\"}")));
  }

  @Test
  void backpressureEmitsOneFramePerPull() {
    TestSubscriber.Probe<Frame> downstream =
        Source.single(ByteString.fromString("{\"a\":1} {\"b\":2} {\"c\":3}"))
            .via(PacketFraming.flow(1024))
            .runWith(TestSink.create(system), system);
    downstream.request(1);
    downstream.expectNext(new Frame.Json(ByteString.fromString("{\"a\":1}")));
    downstream.expectNoMessage(Duration.ofMillis(100));
    downstream.request(1);
    downstream.expectNext(new Frame.Json(ByteString.fromString("{\"b\":2}")));
    downstream.expectNoMessage(Duration.ofMillis(100));
    downstream.request(1);
    downstream.expectNext(new Frame.Json(ByteString.fromString("{\"c\":3}")));
    downstream.expectComplete();
  }

  /** Rescanning the buffer per chunk would take minutes here; one pass needs well under 5 s. */
  @Test
  void largeObjectInOneByteChunksIsScannedOnce() throws Exception {
    String packet = "{\"blob\":\"" + "ab{}".repeat(64 * 1024) + "\"}";
    ByteString bytes = ByteString.fromString(packet);
    List<Frame> frames = runBytes(1024 * 1024, oneBytePerChunk(bytes));
    assertEquals(1, frames.size());
    // Compared as one boolean so a failure does not print a quarter of a megabyte.
    assertTrue(bytes.equals(assertInstanceOf(Frame.Json.class, frames.get(0)).bytes()));
  }

  @Test
  void upstreamFailureFailsTheStream() {
    IllegalStateException boom = new IllegalStateException("boom");
    ExecutionException failure =
        assertThrows(
            ExecutionException.class,
            () ->
                Source.single(ByteString.fromString("{\"a\":1}"))
                    .concat(Source.<ByteString>failed(boom))
                    .via(PacketFraming.flow(1024))
                    .runWith(Sink.seq(), system)
                    .toCompletableFuture()
                    .get(5, SECONDS));
    assertSame(boom, failure.getCause());
  }

  @Test
  void limitBelowTwoIsRejected() {
    assertThrows(IllegalArgumentException.class, () -> PacketFraming.flow(1));
  }

  private static List<Frame> run(int max, String... chunks) throws Exception {
    return runBytes(max, Arrays.stream(chunks).map(ByteString::fromString).toList());
  }

  private static List<Frame> runBytes(int max, List<ByteString> chunks) throws Exception {
    return Source.from(chunks)
        .via(PacketFraming.flow(max))
        .runWith(Sink.seq(), system)
        .toCompletableFuture()
        .get(5, SECONDS);
  }

  private static List<ByteString> oneBytePerChunk(ByteString bytes) {
    return oneBytePerChunk(bytes.toArray());
  }

  private static List<ByteString> oneBytePerChunk(byte[] bytes) {
    List<ByteString> chunks = new ArrayList<>(bytes.length);
    for (byte b : bytes) {
      chunks.add(ByteString.fromArray(new byte[] {b}));
    }
    return chunks;
  }

  private static int indexOf(byte[] bytes, byte wanted) {
    for (int i = 0; i < bytes.length; i++) {
      if (bytes[i] == wanted) {
        return i;
      }
    }
    throw new AssertionError("byte not found");
  }

  /** Readable form of frames, so a failing assertion shows text instead of byte lists. */
  private static List<String> show(List<Frame> frames) {
    return frames.stream().map(PacketFramingTest::show).toList();
  }

  private static String show(Frame frame) {
    if (frame instanceof Frame.Json json) {
      return "json:" + json.bytes().utf8String();
    }
    if (frame instanceof Frame.Garbage garbage) {
      return "garbage:" + garbage.reason();
    }
    return "tooLarge:" + ((Frame.TooLarge) frame).limit();
  }

  private static scala.concurrent.duration.FiniteDuration scalaMillis(long millis) {
    return scala.concurrent.duration.FiniteDuration.create(
        millis, java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  private Pair<TestPublisher.Probe<ByteString>, TestSubscriber.Probe<Frame>> timed(
      Duration timeout) {
    return TestSource.<ByteString>create(system)
        .via(PacketFraming.flow(1024, timeout))
        .toMat(TestSink.create(system), Keep.both())
        .run(system);
  }

  @Test
  void objectNeverFinishedEndsWithIncompleteAndUpstreamIsStillDrained() {
    Pair<TestPublisher.Probe<ByteString>, TestSubscriber.Probe<Frame>> probes =
        timed(Duration.ofMillis(200));
    TestPublisher.Probe<ByteString> upstream = probes.first();
    TestSubscriber.Probe<Frame> downstream = probes.second();

    downstream.request(10);
    upstream.sendNext(ByteString.fromString("{\"a\":1} {\"type\": \"0\", \"payl"));
    downstream.expectNext(new Frame.Json(ByteString.fromString("{\"a\":1}")));
    downstream.expectNext(scalaMillis(2000), new Frame.Incomplete(Duration.ofMillis(200)));
    downstream.expectComplete();
    for (int i = 0; i < 50; i++) {
      upstream.sendNext(ByteString.fromString("{\"later\":" + i + "}"));
    }
    upstream.sendComplete();
  }

  @Test
  void objectsFinishedInTimeNeverTripTheTimer() {
    Pair<TestPublisher.Probe<ByteString>, TestSubscriber.Probe<Frame>> probes =
        timed(Duration.ofMillis(300));
    TestPublisher.Probe<ByteString> upstream = probes.first();
    TestSubscriber.Probe<Frame> downstream = probes.second();

    downstream.request(10);
    // Each object takes ~200 ms, the timeout is 300 ms: the timer must restart per object,
    // and must not run at all between objects (an idle connection is not a slow packet).
    for (int i = 0; i < 3; i++) {
      upstream.sendNext(ByteString.fromString("{\"n\":"));
      downstream.expectNoMessage(Duration.ofMillis(200));
      upstream.sendNext(ByteString.fromString(i + "}"));
      downstream.expectNext(new Frame.Json(ByteString.fromString("{\"n\":" + i + "}")));
    }
    downstream.expectNoMessage(Duration.ofMillis(500));
    upstream.sendComplete();
    downstream.expectComplete();
  }

  @Test
  void aSlowDribbleTripsTheTimerEvenThoughBytesKeepComing() {
    Pair<TestPublisher.Probe<ByteString>, TestSubscriber.Probe<Frame>> probes =
        timed(Duration.ofMillis(300));
    TestPublisher.Probe<ByteString> upstream = probes.first();
    TestSubscriber.Probe<Frame> downstream = probes.second();

    downstream.request(10);
    upstream.sendNext(ByteString.fromString("{"));
    List<Frame> seen = new ArrayList<>();
    for (int i = 0; i < 12 && seen.isEmpty(); i++) {
      upstream.sendNext(ByteString.fromString("\"x\":1,"));
      seen.addAll(
          scala.jdk.javaapi.CollectionConverters.asJava(
              downstream.receiveWithin(scalaMillis(50), 1)));
    }
    if (seen.isEmpty()) {
      seen.add(downstream.expectNext(scalaMillis(1000)));
    }
    assertEquals(List.of(new Frame.Incomplete(Duration.ofMillis(300))), seen);
    downstream.expectComplete();
  }
}
