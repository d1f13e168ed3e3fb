package revproxy.proxy;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.typed.ActorRef;
import akka.util.ByteString;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import revproxy.Routees;
import revproxy.TestConfigs;
import revproxy.fuzz.Corpus;
import revproxy.fuzz.Failures;
import revproxy.fuzz.FramingOracle;
import revproxy.fuzz.Input;
import revproxy.legacy.LegacyRegistry;
import revproxy.protocol.Decoded;
import revproxy.protocol.Packet;
import revproxy.protocol.PacketCodec;
import revproxy.protocol.PayloadHash;
import revproxy.worker.HashWorker;

/**
 * Seeded fuzzing of the proxy over real TCP (seed {@link Corpus#SEED}: {@code -Dfuzz.seed=N}).
 *
 * <p>The corpus comes from {@link Corpus} (without valid registrations, which get no reply and
 * would make the proxy dial random ports). Inputs go out in batches of up to {@value #BATCH}, one
 * connection per batch, pipelined in one write. After every input that leaves no object open a
 * sentinel request follows; an input that leaves an object open (the client then half-closes) or
 * grows one past the limit (then the proxy must close) ends its batch. Four connections run at
 * once, and a "good" connection sends {@value #GOOD_REQUESTS} requests paced over the whole run.
 *
 * <p>The expected reply for each complete object is what {@link PacketCodec#decodeRequest} makes of
 * its bytes (the codec is fuzzed on its own in {@code CodecFuzzTest}), routed: a type "2" with the
 * payload's SHA-1 from a worker of 111/222, {@code no_worker_for_policy} for any other policy, or
 * the decoder's error exactly. Garbage runs get one or more {@code not_json} (one per TCP read the
 * run spans).
 */
class ProxyFuzzTest {

  static final long SEED = Corpus.SEED;
  static final int LIMIT = Corpus.LIMIT;
  static final int INPUTS = 2_000;
  static final int BATCH = 50;
  static final int THREADS = 4;
  static final int GOOD_REQUESTS = 500;

  static final Map<String, Set<String>> WORKERS =
      Map.of("111", Set.of("100", "300"), "222", Set.of("200", "400"));

  static final ActorTestKit testKit = ActorTestKit.create(TestConfigs.local());
  static final ObjectMapper JSON = new ObjectMapper();
  static InetSocketAddress proxy;

  @BeforeAll
  static void start() throws Exception {
    testKit.spawn(HashWorker.create("100", "111"));
    testKit.spawn(HashWorker.create("200", "222"));
    testKit.spawn(HashWorker.create("300", "111"));
    testKit.spawn(HashWorker.create("400", "222"));
    Routees.await(testKit, "111", 2);
    Routees.await(testKit, "222", 2);
    // Room for every random policy name the corpus asks for: all get no_worker_for_policy.
    ProxySettings settings =
        TestConfigs.proxySettings(Duration.ofSeconds(5), Duration.ofSeconds(5), LIMIT, 100_000);
    ActorRef<RouterActor.Command> router = testKit.spawn(RouterActor.create(settings));
    ActorRef<LegacyRegistry.Command> legacyServers =
        testKit.spawn(LegacyRegistry.create(TestConfigs.legacySettings(), Set.of()));
    proxy =
        ProxyServer.bind(
                testKit.system(),
                router,
                legacyServers,
                settings,
                TestConfigs.registrationSettings())
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS)
            .localAddress();
  }

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void fuzzedConnectionsGetExactRepliesInOrderAndNeverDisturbAGoodConnection() throws Exception {
    List<Batch> batches = batches(corpus());
    Failures fuzzFailures = new Failures("proxy fuzz");
    Failures goodFailures = new Failures("good connection");
    AtomicInteger progress = new AtomicInteger();
    AtomicBoolean fuzzing = new AtomicBoolean(true);
    Stats stats = new Stats();

    GoodClient good = new GoodClient(progress, fuzzing, goodFailures);
    Thread goodThread = new Thread(good, "good-client");
    goodThread.start();

    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    List<Future<?>> running = new ArrayList<>();
    int inputsBefore = 0;
    for (Batch batch : batches) {
      int startsAt = inputsBefore;
      inputsBefore += batch.inputs().size();
      running.add(
          pool.submit(
              () -> {
                good.awaitKeepingUp(startsAt);
                runBatch(batch, fuzzFailures, stats);
                progress.addAndGet(batch.inputs().size());
              }));
    }
    for (Future<?> f : running) {
      f.get(60, TimeUnit.SECONDS);
    }
    fuzzing.set(false);
    pool.shutdown();
    goodThread.join(30_000);

    System.out.printf(
        "ProxyFuzzTest seed %d: %d inputs in %d connections; %d objects, %d garbage runs, "
            + "%d sentinels answered, %d unfinished, %d too large; good connection %d/%d "
            + "correct, %d while fuzzing%n",
        SEED,
        progress.get(),
        batches.size(),
        stats.objects.get(),
        stats.garbageRuns.get(),
        stats.sentinels.get(),
        stats.unfinished.get(),
        stats.tooLarge.get(),
        good.correct.get(),
        GOOD_REQUESTS,
        good.duringFuzz.get());
    assertAll(
        fuzzFailures::assertNone,
        goodFailures::assertNone,
        () -> assertEquals(GOOD_REQUESTS, good.correct.get(), "correct good replies"),
        () ->
            assertTrue(
                good.duringFuzz.get() >= GOOD_REQUESTS / 2,
                "only " + good.duringFuzz.get() + " good replies arrived while fuzzing"),
        () -> assertTrue(progress.get() >= INPUTS, "inputs sent: " + progress.get()),
        () ->
            assertTrue(
                stats.tooLarge.get() > 0
                    && stats.unfinished.get() > 0
                    && stats.garbageRuns.get() > 0,
                "corpus lacks an ending kind"));
  }

  // ------------------------------------------------------------------------------- corpus

  /** {@value #INPUTS} inputs, skipping any that holds a valid registration. */
  private static List<Input> corpus() {
    Corpus corpus = new Corpus(SEED ^ 0x9E3779B97F4A7C15L, LIMIT, false);
    List<Input> inputs = new ArrayList<>();
    for (int n = 0; inputs.size() < INPUTS; n++) {
      Input input = corpus.next(n);
      boolean registers = false;
      for (FramingOracle.Segment s : FramingOracle.segments(input.bytes(), LIMIT)) {
        if (s instanceof FramingOracle.Json json
            && PacketCodec.decodeRequest(slice(input.bytes(), json.from(), json.to()))
                instanceof Decoded.Ok ok
            && ok.packet() instanceof Packet.Registration) {
          registers = true;
        }
      }
      if (!registers) {
        inputs.add(input);
      }
    }
    return inputs;
  }

  /** How a batch's connection ends. */
  enum Ending {
    /** The client half-closes after the last sentinel. */
    HALF_CLOSE,
    /** The last input leaves an object open; the client half-closes right after it. */
    UNFINISHED,
    /** The last input grows an object past the limit; the proxy must close the connection. */
    TOO_LARGE
  }

  record Batch(int number, List<Input> inputs, Ending ending) {}

  /** Up to {@value #BATCH} inputs per batch, ending early at an input that leaves no way back. */
  private static List<Batch> batches(List<Input> inputs) {
    List<Batch> batches = new ArrayList<>();
    List<Input> current = new ArrayList<>();
    for (Input input : inputs) {
      current.add(input);
      List<FramingOracle.Segment> segments = FramingOracle.segments(input.bytes(), LIMIT);
      Ending ending = Ending.HALF_CLOSE;
      if (!segments.isEmpty()
          && segments.get(segments.size() - 1) instanceof FramingOracle.Unfinished) {
        ending = Ending.UNFINISHED;
      } else if (!segments.isEmpty()
          && segments.get(segments.size() - 1) instanceof FramingOracle.TooLarge) {
        ending = Ending.TOO_LARGE;
      }
      if (ending != Ending.HALF_CLOSE || current.size() == BATCH) {
        batches.add(new Batch(batches.size(), List.copyOf(current), ending));
        current.clear();
      }
    }
    if (!current.isEmpty()) {
      batches.add(new Batch(batches.size(), List.copyOf(current), Ending.HALF_CLOSE));
    }
    return batches;
  }

  private static String sentinelId(Batch batch, int i) {
    return "sentinel-" + batch.number() + "-" + i;
  }

  private static String sentinelPolicy(int i) {
    return i % 2 == 0 ? "111" : "222";
  }

  private static byte[] sentinel(Batch batch, int i) {
    return ("{\"type\": \"0\", \"srcid\": \""
            + sentinelId(batch, i)
            + "\", \"privPoliId\": \""
            + sentinelPolicy(i)
            + "\", \"payload\": \""
            + sentinelId(batch, i)
            + "\"}")
        .getBytes(UTF_8);
  }

  // ------------------------------------------------------------------------- expectations

  /** One step of what a connection must answer, in order. */
  sealed interface Expect {
    Input input();
  }

  /** Exactly this reply. */
  record Exact(Input input, JsonNode reply, String what) implements Expect {}

  /**
   * A type "2" for {@code destid} with the SHA-1 of {@code payload} from one of {@code workers}.
   */
  record Served(Input input, String destid, String payload, Set<String> workers, String what)
      implements Expect {}

  /** One or more not_json errors covering a garbage run. */
  record GarbageRun(Input input, byte first, int nonWhitespace, int span) implements Expect {}

  private static List<Expect> expectations(Batch batch) {
    List<Expect> out = new ArrayList<>();
    for (int i = 0; i < batch.inputs().size(); i++) {
      Input input = batch.inputs().get(i);
      byte[] bytes = input.bytes();
      for (FramingOracle.Segment segment : FramingOracle.segments(bytes, LIMIT)) {
        if (segment instanceof FramingOracle.Garbage g) {
          out.add(garbageRun(input, bytes, g.from(), g.to()));
        } else if (segment instanceof FramingOracle.Json json) {
          out.add(objectReply(input, slice(bytes, json.from(), json.to())));
        } else if (segment instanceof FramingOracle.Unfinished unfinished) {
          out.add(
              new Exact(
                  input,
                  encoded(
                      new Packet.Error(
                          null,
                          "not_json",
                          "not a JSON object: connection closed inside an unfinished JSON object ("
                              + unfinished.length()
                              + " bytes)")),
                  "unfinished object"));
        } else {
          out.add(
              new Exact(
                  input,
                  encoded(
                      new Packet.Error(
                          null,
                          "packet_too_large",
                          "packet larger than " + LIMIT + " bytes; closing the connection")),
                  "object over the limit"));
        }
      }
      if (batch.ending() == Ending.HALF_CLOSE || i < batch.inputs().size() - 1) {
        String id = sentinelId(batch, i);
        out.add(new Served(input, id, id, WORKERS.get(sentinelPolicy(i)), "sentinel after it"));
      }
    }
    return out;
  }

  private static Expect garbageRun(Input input, byte[] bytes, int from, int to) {
    int first = -1;
    int last = -1;
    int nonWhitespace = 0;
    for (int i = from; i < to; i++) {
      if (!FramingOracle.isWhitespace(bytes[i])) {
        first = first < 0 ? i : first;
        last = i;
        nonWhitespace++;
      }
    }
    return new GarbageRun(input, bytes[first], nonWhitespace, last - first + 1);
  }

  private static Expect objectReply(Input input, ByteString object) {
    Decoded decoded = PacketCodec.decodeRequest(object);
    if (decoded instanceof Decoded.Ok ok && ok.packet() instanceof Packet.Request request) {
      Set<String> workers = WORKERS.get(request.policyId());
      if (workers != null) {
        return new Served(input, request.srcid(), request.payload(), workers, "request");
      }
      return new Exact(
          input,
          encoded(
              new Packet.Error(
                  request.srcid(),
                  "no_worker_for_policy",
                  "no worker serves policy \"" + request.policyId() + "\"")),
          "request for an unserved policy");
    }
    // The corpus holds no valid registration: what is left is a refusal.
    return new Exact(input, encoded(((Decoded.Refused) decoded).toError()), "decoder error");
  }

  private static JsonNode encoded(Packet packet) {
    try {
      return JSON.readTree(PacketCodec.encode(packet).toArray());
    } catch (IOException e) {
      throw new AssertionError("cannot read back " + packet, e);
    }
  }

  // ------------------------------------------------------------------------- one connection

  static final class Stats {
    final AtomicInteger objects = new AtomicInteger();
    final AtomicInteger garbageRuns = new AtomicInteger();
    final AtomicInteger sentinels = new AtomicInteger();
    final AtomicInteger unfinished = new AtomicInteger();
    final AtomicInteger tooLarge = new AtomicInteger();
  }

  private static void runBatch(Batch batch, Failures failures, Stats stats) {
    ByteArrayOutputStream wire = new ByteArrayOutputStream();
    for (int i = 0; i < batch.inputs().size(); i++) {
      wire.writeBytes(batch.inputs().get(i).bytes());
      if (batch.ending() != Ending.UNFINISHED || i < batch.inputs().size() - 1) {
        wire.writeBytes(sentinel(batch, i)); // after TOO_LARGE too: it must go unanswered
      }
    }
    List<Expect> expected = expectations(batch);
    Input first = batch.inputs().get(0);
    Input label =
        new Input(
            first.index(),
            "connection " + batch.number() + " (" + batch.ending() + ")",
            new byte[0],
            null,
            null);
    Received received;
    try {
      received = exchange(wire.toByteArray(), batch.ending());
    } catch (Exception e) {
      failures.add(label, "connection failed: " + e);
      return;
    }
    if (received.writeError() != null && batch.ending() != Ending.TOO_LARGE) {
      failures.add(label, "write failed: " + received.writeError());
    }
    if (received.reset() && batch.ending() != Ending.TOO_LARGE) {
      failures.add(label, "connection reset by the proxy");
    }
    List<JsonNode> replies;
    try {
      replies = parse(received.bytes());
    } catch (IOException e) {
      failures.add(label, "replies are not back-to-back JSON: " + e.getMessage());
      return;
    }
    match(batch, expected, replies, failures, stats);
  }

  private static void match(
      Batch batch, List<Expect> expected, List<JsonNode> replies, Failures failures, Stats stats) {
    int r = 0;
    for (Expect expect : expected) {
      String problem;
      if (expect instanceof GarbageRun run) {
        int taken = 0;
        long skipped = 0;
        String firstShown = null;
        while (r < replies.size() && garbageCount(replies.get(r)) >= 0) {
          if (taken++ == 0) {
            firstShown = garbageFound(replies.get(r));
          }
          skipped += garbageCount(replies.get(r++));
        }
        String wanted = FramingOracle.shown(run.first());
        problem =
            taken == 0
                ? "garbage run got no not_json but " + at(replies, r)
                : !wanted.equals(firstShown)
                        || skipped < run.nonWhitespace()
                        || skipped > run.span()
                    ? "garbage run of "
                        + run.nonWhitespace()
                        + "-"
                        + run.span()
                        + " bytes from "
                        + wanted
                        + " got "
                        + taken
                        + " not_json from "
                        + firstShown
                        + " counting "
                        + skipped
                    : null;
        stats.garbageRuns.incrementAndGet();
      } else if (r >= replies.size()) {
        problem = "no reply for the " + describe(expect) + " (got " + replies.size() + " replies)";
      } else {
        JsonNode reply = replies.get(r++);
        problem = mismatch(expect, reply);
        count(expect, stats);
      }
      if (problem != null) {
        failures.add(
            expect.input(),
            "connection "
                + batch.number()
                + " ("
                + batch.ending()
                + "), reply "
                + r
                + ": "
                + problem);
        return;
      }
    }
    if (r < replies.size()) {
      failures.add(
          batch.inputs().get(batch.inputs().size() - 1),
          "connection "
              + batch.number()
              + " ("
              + batch.ending()
              + "): "
              + (replies.size() - r)
              + " unexpected extra replies, first "
              + abbreviate(replies.get(r)));
    }
  }

  private static String mismatch(Expect expect, JsonNode reply) {
    if (expect instanceof Exact exact) {
      return exact.reply().equals(reply)
          ? null
          : exact.what()
              + ": expected "
              + abbreviate(exact.reply())
              + " but got "
              + abbreviate(reply);
    }
    Served served = (Served) expect;
    String worker = reply.path("srcid").asText();
    JsonNode wanted =
        encoded(new Packet.Reply(worker, served.destid(), PayloadHash.sha1Hex(served.payload())));
    return served.workers().contains(worker) && wanted.equals(reply)
        ? null
        : served.what()
            + ": expected a type 2 for "
            + served.destid()
            + " from "
            + served.workers()
            + " but got "
            + abbreviate(reply);
  }

  private static void count(Expect expect, Stats stats) {
    if (expect instanceof Served served && served.what().startsWith("sentinel")) {
      stats.sentinels.incrementAndGet();
    } else if (expect instanceof Exact exact && exact.what().equals("unfinished object")) {
      stats.unfinished.incrementAndGet();
    } else if (expect instanceof Exact exact && exact.what().equals("object over the limit")) {
      stats.tooLarge.incrementAndGet();
    } else {
      stats.objects.incrementAndGet();
    }
  }

  private static final Pattern GARBAGE =
      Pattern.compile(
          "not a JSON object: expected '\\{' but found ('.'|0x[0-9A-F]{2}) \\((\\d+) bytes?"
              + " skipped\\)");

  /** The byte count of a not_json reply for a garbage run, or -1 if it is not one. */
  private static long garbageCount(JsonNode reply) {
    Matcher m = GARBAGE.matcher(reply.path("message").asText());
    boolean isGarbage =
        reply.path("type").asText().equals("3")
            && reply.path("code").asText().equals("not_json")
            && reply.path("destid").isNull()
            && reply.size() == 4
            && m.matches();
    return isGarbage ? Long.parseLong(m.group(2)) : -1;
  }

  private static String garbageFound(JsonNode reply) {
    Matcher m = GARBAGE.matcher(reply.path("message").asText());
    return m.matches() ? m.group(1) : null;
  }

  private static String describe(Expect expect) {
    if (expect instanceof Exact exact) {
      return exact.what() + " " + abbreviate(exact.reply());
    }
    return expect instanceof Served served ? served.what() + " " + served.destid() : "garbage run";
  }

  private static String at(List<JsonNode> replies, int r) {
    return r < replies.size() ? abbreviate(replies.get(r)) : "the end of the replies";
  }

  private static String abbreviate(Object o) {
    String s = String.valueOf(o);
    return s.length() <= 300 ? s : s.substring(0, 300) + "...";
  }

  record Received(byte[] bytes, boolean reset, IOException writeError) {}

  /**
   * Writes {@code wire} from another thread (replies flow back while it is written) and reads until
   * the proxy closes the connection.
   */
  private static Received exchange(byte[] wire, Ending ending) throws Exception {
    try (Socket socket = new Socket(proxy.getAddress(), proxy.getPort())) {
      socket.setSoTimeout(20_000);
      IOException[] writeError = new IOException[1];
      Thread writer =
          new Thread(
              () -> {
                try {
                  OutputStream out = socket.getOutputStream();
                  out.write(wire);
                  out.flush();
                  if (ending != Ending.TOO_LARGE) {
                    socket.shutdownOutput();
                  }
                } catch (IOException e) {
                  writeError[0] = e;
                }
              });
      writer.start();
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      boolean reset = false;
      InputStream in = socket.getInputStream();
      byte[] buffer = new byte[16_384];
      try {
        for (int n; (n = in.read(buffer)) >= 0; ) {
          got.write(buffer, 0, n);
        }
      } catch (SocketTimeoutException e) {
        throw new IOException("the proxy did not close the connection within 20 s", e);
      } catch (SocketException e) {
        reset = true;
      }
      writer.join(20_000);
      return new Received(got.toByteArray(), reset, writeError[0]);
    }
  }

  private static List<JsonNode> parse(byte[] bytes) throws IOException {
    List<JsonNode> replies = new ArrayList<>();
    try (MappingIterator<JsonNode> it = JSON.readerFor(JsonNode.class).readValues(bytes)) {
      while (it.hasNextValue()) {
        replies.add(it.nextValue());
      }
    }
    return replies;
  }

  private static ByteString slice(byte[] bytes, int from, int to) {
    return ByteString.fromArray(bytes, from, to - from);
  }

  // ------------------------------------------------------------------------ the good client

  /**
   * Sends {@value #GOOD_REQUESTS} valid requests one at a time on one connection and checks every
   * reply. Paced both ways so they spread over the whole run: request i waits until the fuzzing has
   * finished i/{@value #GOOD_REQUESTS} of the inputs, and a fuzz batch waits (see {@link
   * #awaitKeepingUp}) until this client is no more than {@value #SLACK} requests behind.
   */
  static final class GoodClient implements Runnable {
    static final int SLACK = 25;
    final AtomicInteger correct = new AtomicInteger();
    final AtomicInteger answered = new AtomicInteger();
    final AtomicInteger duringFuzz = new AtomicInteger();
    private volatile boolean finished;
    private final AtomicInteger progress;
    private final AtomicBoolean fuzzing;
    private final Failures failures;

    GoodClient(AtomicInteger progress, AtomicBoolean fuzzing, Failures failures) {
      this.progress = progress;
      this.fuzzing = fuzzing;
      this.failures = failures;
    }

    /** Blocks a batch starting at input {@code startsAt} while this client lags behind. */
    void awaitKeepingUp(int startsAt) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      long wanted = (long) startsAt * GOOD_REQUESTS / INPUTS - SLACK;
      try {
        while (answered.get() < wanted && !finished && System.nanoTime() < deadline) {
          Thread.sleep(1);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    @Override
    public void run() {
      try {
        talk();
      } finally {
        finished = true;
      }
    }

    private void talk() {
      Input label = new Input(0, "good connection", new byte[0], null, null);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      try (Socket socket = new Socket(proxy.getAddress(), proxy.getPort())) {
        socket.setSoTimeout(10_000);
        OutputStream out = socket.getOutputStream();
        MappingIterator<JsonNode> replies = null;
        for (int i = 0; i < GOOD_REQUESTS; i++) {
          while (fuzzing.get()
              && (long) progress.get() * GOOD_REQUESTS < (long) i * INPUTS
              && System.nanoTime() < deadline) {
            Thread.sleep(1);
          }
          String policy = i % 2 == 0 ? "111" : "222";
          String id = "good-" + i;
          out.write(
              ("{\"type\": \"0\", \"srcid\": \""
                      + id
                      + "\", \"privPoliId\": \""
                      + policy
                      + "\", \"payload\": \"good payload "
                      + i
                      + "\"}")
                  .getBytes(UTF_8));
          out.flush();
          if (replies == null) {
            // Created only now: creating it reads ahead, which would block before any request.
            replies = JSON.readerFor(JsonNode.class).readValues(socket.getInputStream());
          }
          if (!replies.hasNextValue()) {
            failures.add(label, "connection closed before the reply to " + id);
            return;
          }
          JsonNode reply = replies.nextValue();
          boolean stillFuzzing = fuzzing.get();
          answered.incrementAndGet();
          String worker = reply.path("srcid").asText();
          JsonNode wanted =
              encoded(new Packet.Reply(worker, id, PayloadHash.sha1Hex("good payload " + i)));
          if (WORKERS.get(policy).contains(worker) && wanted.equals(reply)) {
            correct.incrementAndGet();
            if (stillFuzzing) {
              duringFuzz.incrementAndGet();
            }
          } else {
            failures.add(label, "request " + id + " got " + abbreviate(reply));
          }
        }
      } catch (Exception e) {
        failures.add(label, "failed after " + correct.get() + " correct replies: " + e);
      }
    }
  }
}
