package revproxy.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.japi.Pair;
import akka.stream.javadsl.Keep;
import akka.stream.testkit.TestPublisher;
import akka.stream.testkit.TestSubscriber;
import akka.stream.testkit.javadsl.TestSink;
import akka.stream.testkit.javadsl.TestSource;
import akka.util.ByteString;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import revproxy.TestConfigs;
import revproxy.legacy.LegacyRegistry;
import revproxy.ops.Metrics;
import revproxy.protocol.ErrorCode;
import revproxy.protocol.Frame;
import revproxy.protocol.Packet;
import scala.concurrent.duration.FiniteDuration;

/** The connection stage against a scripted router: order, backpressure, its safety timeout. */
class RequestStageTest {

  static final ActorTestKit testKit = ActorTestKit.create(TestConfigs.local());

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private record Run(
      TestPublisher.Probe<Frame> frames,
      TestSubscriber.Probe<Packet> answers,
      TestProbe<RouterActor.Command> router,
      TestProbe<LegacyRegistry.Command> registry) {}

  private static Run run(int maxInFlight, Duration askTimeout) {
    TestProbe<RouterActor.Command> router = testKit.createTestProbe();
    TestProbe<LegacyRegistry.Command> registry = testKit.createTestProbe();
    RequestStage stage =
        new RequestStage(
            new RequestStage.Context(
                testKit.system(),
                router.getRef(),
                registry.getRef(),
                maxInFlight,
                askTimeout,
                4,
                Metrics.get(testKit.system()).proxy(),
                new InetSocketAddress("127.0.0.1", 40000),
                2100));
    Pair<TestPublisher.Probe<Frame>, TestSubscriber.Probe<Packet>> probes =
        TestSource.<Frame>create(testKit.system())
            .via(stage)
            .toMat(TestSink.create(testKit.system()), Keep.both())
            .run(testKit.system());
    return new Run(probes.first(), probes.second(), router, registry);
  }

  private static Frame request(String srcid) {
    return new Frame.Json(
        ByteString.fromString(
            "{\"type\":\"0\",\"srcid\":\""
                + srcid
                + "\",\"privPoliId\":\"111\",\"payload\":\"p\"}"));
  }

  @Test
  void answersGoOutInRequestOrderWhateverOrderTheRouterAnswersIn() {
    Run run = run(8, Duration.ofSeconds(10));
    run.answers().request(10);
    List<RouterActor.Route> routes = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      run.frames().sendNext(request("c" + i));
      routes.add(run.router().expectMessageClass(RouterActor.Route.class));
    }
    assertEquals(List.of(0L, 1L, 2L), routes.stream().map(RouterActor.Route::tag).toList());
    // A frame that is no request is answered in its place.
    run.frames().sendNext(new Frame.Garbage("expected '{' but found 'h' (4 bytes skipped)"));
    routes.get(2).replyTo().tell(new RouterActor.Served(2, "w2", "h2"));
    routes.get(1).replyTo().tell(new RouterActor.Rejected(1, ErrorCode.TIMEOUT, "slow"));
    run.answers().expectNoMessage(Duration.ofMillis(100));
    routes.get(0).replyTo().tell(new RouterActor.Served(0, "w0", "h0"));
    assertEquals(new Packet.Reply("w0", "c0", "h0"), run.answers().expectNext());
    assertEquals(Packet.Error.of("c1", ErrorCode.TIMEOUT, "slow"), run.answers().expectNext());
    assertEquals(new Packet.Reply("w2", "c2", "h2"), run.answers().expectNext());
    Packet.Error garbage = (Packet.Error) run.answers().expectNext();
    assertEquals("not_json", garbage.code(), garbage.toString());
    // A second answer for a tag, or one for a tag never sent, changes nothing.
    routes.get(0).replyTo().tell(new RouterActor.Served(0, "again", "h0"));
    routes.get(0).replyTo().tell(new RouterActor.Served(99, "stray", "h"));
    run.frames().sendComplete();
    run.answers().expectComplete();
  }

  @Test
  void atMaxInFlightItStopsPullingUntilTheOldestIsSent() {
    Run run = run(2, Duration.ofSeconds(10));
    run.answers().request(10);
    run.frames().sendNext(request("a"));
    run.frames().sendNext(request("b"));
    run.frames().sendNext(request("c"));
    RouterActor.Route a = run.router().expectMessageClass(RouterActor.Route.class);
    run.router().expectMessageClass(RouterActor.Route.class);
    // The third frame waits outside the stage: it is not pulled while two are in flight.
    run.router().expectNoMessage(Duration.ofMillis(200));
    a.replyTo().tell(new RouterActor.Served(a.tag(), "w", "h"));
    assertEquals(new Packet.Reply("w", "a", "h"), run.answers().expectNext());
    assertEquals("c", run.router().expectMessageClass(RouterActor.Route.class).srcid());
  }

  @Test
  void aRequestTheRouterNeverAnswersGetsATimeoutAndUpstreamCompletionWaitsForIt() {
    Run run = run(8, Duration.ofMillis(300));
    run.answers().request(10);
    run.frames().sendNext(request("lost"));
    run.router().expectMessageClass(RouterActor.Route.class);
    run.frames().sendComplete();
    run.answers().expectNoMessage(Duration.ofMillis(150));
    assertEquals(
        Packet.Error.of("lost", ErrorCode.TIMEOUT, "the router did not answer"),
        run.answers().expectNext(FiniteDuration.create(2, TimeUnit.SECONDS)));
    run.answers().expectComplete();
  }

  @Test
  void anAcceptedRegistrationIsAnsweredWithNothingARefusedOneWithItsError() {
    Run run = run(8, Duration.ofSeconds(10));
    run.answers().request(10);
    String registration =
        "{\"type\": \"1\", \"id\": \"%s\", \"privPolyId\": \"111\", \"listenport\": \"4000\"}";
    run.frames()
        .sendNext(new Frame.Json(ByteString.fromString(String.format(registration, "100"))));
    run.frames().sendNext(request("after"));
    LegacyRegistry.Register first =
        run.registry().expectMessageClass(LegacyRegistry.Register.class);
    RouterActor.Route route = run.router().expectMessageClass(RouterActor.Route.class);
    route.replyTo().tell(new RouterActor.Served(route.tag(), "w", "h"));
    run.answers().expectNoMessage(Duration.ofMillis(100)); // in order: the registration first
    first.replyTo().tell(LegacyRegistry.Accepted.INSTANCE);
    assertEquals(new Packet.Reply("w", "after", "h"), run.answers().expectNext());
    run.frames()
        .sendNext(new Frame.Json(ByteString.fromString(String.format(registration, "300"))));
    run.registry()
        .expectMessageClass(LegacyRegistry.Register.class)
        .replyTo()
        .tell(new LegacyRegistry.Refused(ErrorCode.REGISTRATION_REFUSED, "not from here"));
    assertEquals(
        Packet.Error.of("300", ErrorCode.REGISTRATION_REFUSED, "not from here"),
        run.answers().expectNext());
  }
}
