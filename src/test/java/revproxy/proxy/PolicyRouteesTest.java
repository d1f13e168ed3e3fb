package revproxy.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Routers;
import akka.actor.typed.receptionist.Receptionist;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import revproxy.TestConfigs;
import revproxy.routee.Routee;

class PolicyRouteesTest {

  /** Two "nodes": refs of two actor systems have two addresses, as on two cluster nodes. */
  static final ActorTestKit nodeA = ActorTestKit.create("nodeA", TestConfigs.local());

  static final ActorTestKit nodeB = ActorTestKit.create("nodeB", TestConfigs.local());

  static final long SECOND = 1_000_000_000L;

  @AfterAll
  static void shutdown() {
    nodeA.shutdownTestKit();
    nodeB.shutdownTestKit();
  }

  /**
   * Routees ejected after {@code ejectAfterTimeouts} timeouts in a row for {@code ejectionNanos}.
   */
  private static PolicyRoutees routees(int ejectAfterTimeouts, long ejectionNanos) {
    return new PolicyRoutees(outliers(ejectAfterTimeouts, ejectionNanos));
  }

  /** Ejects after {@code ejectAfterTimeouts} timeouts in a row for {@code ejectionNanos}. */
  private static OutlierDetector outliers(int ejectAfterTimeouts, long ejectionNanos) {
    return outliers(ejectAfterTimeouts, ejectionNanos, 100);
  }

  private static OutlierDetector outliers(
      int ejectAfterTimeouts, long ejectionNanos, int maxEjectedPercent) {
    return new OutlierDetector(
        OutlierSettings.withoutWarmUp(
            Duration.ofMillis(25),
            Duration.ofSeconds(1),
            3,
            Duration.ofMillis(5),
            ejectAfterTimeouts,
            Duration.ofNanos(ejectionNanos),
            Duration.ofNanos(ejectionNanos * 8),
            maxEjectedPercent),
        Duration.ofSeconds(2).toNanos());
  }

  private static ActorRef<Routee.Command> routee(ActorTestKit node, String name) {
    return node.spawn(Behaviors.ignore(), name);
  }

  @Test
  void routeesAreOrderedAsAkkasRoundRobinLogicDoesByPathThenNode() {
    ActorRef<Routee.Command> bW1 = routee(nodeB, "order-w1");
    ActorRef<Routee.Command> aW2 = routee(nodeA, "order-w2");
    ActorRef<Routee.Command> aW1 = routee(nodeA, "order-w1");
    PolicyRoutees routees = routees(2, 10 * SECOND);
    routees.update(List.of(bW1, aW2, aW1));
    // The same path on both nodes sits side by side, node A (akka://nodeA) before node B.
    assertEquals(List.of(aW1, bW1, aW2), routees.routees());
  }

  @Test
  void theGroupRoutersPicksArePredictedExactlyAcrossListingChanges() {
    ActorTestKit kit = nodeA;
    var key = Routee.serviceKey("predict");
    List<TestProbe<Routee.Command>> probes = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      TestProbe<Routee.Command> probe = kit.createTestProbe("predict-" + i);
      probes.add(probe);
      kit.system().receptionist().tell(Receptionist.register(key, probe.getRef()));
    }
    ActorRef<Routee.Command> groupRouter = kit.spawn(Routers.group(key).withRoundRobinRouting());
    PolicyRoutees routees = routees(2, 10 * SECOND);
    TestProbe<Receptionist.Listing> listings = kit.createTestProbe();
    routees.update(awaitListing(kit, key, listings, 4));
    TestProbe<Routee.Reply> replies = kit.createTestProbe();
    long id = 0;
    // Each round: 7 messages, then one routee leaves or comes back, and the router settles.
    for (int round = 0; round < 6; round++) {
      for (int i = 0; i < 7; i++, id++) {
        ActorRef<Routee.Command> predicted = routees.viaGroupRouter().routee();
        groupRouter.tell(new Routee.Hash(id, "c", "p", replies.getRef()));
        TestProbe<Routee.Command> expected = probeOf(probes, predicted);
        assertEquals(id, ((Routee.Hash) expected.receiveMessage()).requestId(), "message " + id);
      }
      TestProbe<Routee.Command> changing = probes.get(round % 4);
      int count;
      if (round % 2 == 0) {
        kit.system().receptionist().tell(Receptionist.deregister(key, changing.getRef()));
        count = 3;
      } else {
        kit.system()
            .receptionist()
            .tell(Receptionist.register(key, probes.get((round - 1) % 4).getRef()));
        count = 4;
      }
      routees.update(awaitListing(kit, key, listings, count));
      // The group router got the same listing: let it take it before the next message.
      listings.expectNoMessage(Duration.ofMillis(100));
    }
  }

  private static TestProbe<Routee.Command> probeOf(
      List<TestProbe<Routee.Command>> probes, ActorRef<Routee.Command> ref) {
    for (TestProbe<Routee.Command> probe : probes) {
      if (probe.getRef().equals(ref)) {
        return probe;
      }
    }
    throw new AssertionError("not a probe: " + ref);
  }

  private static Set<ActorRef<Routee.Command>> awaitListing(
      ActorTestKit kit,
      akka.actor.typed.receptionist.ServiceKey<Routee.Command> key,
      TestProbe<Receptionist.Listing> probe,
      int count) {
    return probe.awaitAssert(
        Duration.ofSeconds(5),
        () -> {
          kit.system().receptionist().tell(Receptionist.find(key, probe.getRef()));
          Set<ActorRef<Routee.Command>> found = probe.receiveMessage().getServiceInstances(key);
          assertEquals(count, found.size());
          return found;
        });
  }

  @Test
  void aReplyFromAnotherRouteeThanPredictedPutsTheIndexRight() {
    ActorRef<Routee.Command> a = routee(nodeA, "fix-a");
    ActorRef<Routee.Command> b = routee(nodeA, "fix-b");
    ActorRef<Routee.Command> c = routee(nodeA, "fix-c");
    PolicyRoutees routees = routees(2, 10 * SECOND);
    routees.update(List.of(a, b, c));
    // Worker ids are learnt from replies to direct attempts.
    routees.replied(a, null, "A", true, 0, 0);
    routees.replied(b, null, "B", true, 0, 0);
    routees.replied(c, null, "C", true, 0, 0);
    PolicyRoutees.GroupSend first = routees.viaGroupRouter();
    PolicyRoutees.GroupSend second = routees.viaGroupRouter();
    assertEquals(a, first.routee());
    assertEquals(b, second.routee());
    // The group router had really picked b for the first message (it saw a listing change a
    // moment earlier): b answers it. Its next picks are c (the second message), then a.
    routees.replied(first.routee(), first, "B", true, 0, 0);
    assertEquals(a, routees.viaGroupRouter().routee());
    assertEquals(b, routees.viaGroupRouter().routee());
  }

  @Test
  void theGroupRouterIsUsedOnlyOnceEveryRouteesWorkerIdIsKnownAndNoneIsEjected() {
    ActorRef<Routee.Command> a = routee(nodeA, "use-a");
    ActorRef<Routee.Command> b = routee(nodeA, "use-b");
    OutlierDetector outliers = outliers(1, 10 * SECOND);
    PolicyRoutees routees = new PolicyRoutees(outliers);
    routees.update(List.of(a, b));
    assertFalse(routees.mayUseGroupRouter(0));
    // An unknown routee comes first in direct round robin, so its worker id is learnt.
    assertEquals(a, routees.nextDirect(List.of(), 0));
    routees.replied(a, null, "A", true, 0, 0);
    assertEquals(b, routees.nextDirect(List.of(), 0));
    routees.replied(b, null, "B", true, 0, 0);
    assertTrue(routees.mayUseGroupRouter(0));
    assertTrue(outliers.timedOut(b, 0));
    assertFalse(routees.mayUseGroupRouter(SECOND), "b is ejected: direct attempts skip it");
    assertEquals(a, routees.nextDirect(List.of(), SECOND));
    assertEquals(a, routees.nextDirect(List.of(), SECOND));
    assertTrue(routees.mayUseGroupRouter(11 * SECOND), "the ejection ran out");
  }

  @Test
  void aRetryGoesToAnotherNodeWheneverOneHasARoutee() {
    ActorRef<Routee.Command> a1 = routee(nodeA, "spread-1");
    ActorRef<Routee.Command> a2 = routee(nodeA, "spread-2");
    ActorRef<Routee.Command> b3 = routee(nodeB, "spread-3");
    ActorRef<Routee.Command> b4 = routee(nodeB, "spread-4");
    PolicyRoutees routees = routees(2, 10 * SECOND);
    routees.update(List.of(a1, a2, b3, b4));
    for (ActorRef<Routee.Command> r : List.of(a1, a2, b3, b4)) {
      routees.replied(r, null, r.path().name(), true, 0, 0);
    }
    // Whatever the round robin position, a retry after a1 goes to node B, and after a1 and b3
    // to a routee not tried yet.
    for (int i = 0; i < 8; i++) {
      ActorRef<Routee.Command> retry = routees.nextDirect(List.of(a1), 0);
      assertEquals(nodeB.system().address(), retry.path().address(), "try " + i);
      ActorRef<Routee.Command> third = routees.nextDirect(List.of(a1, retry), 0);
      assertNotEquals(a1, third);
      assertNotEquals(retry, third);
    }
  }

  @Test
  void withOneRouteeARetryGoesToItAgainAndTheOnlyRouteeIsNeverEjected() {
    ActorRef<Routee.Command> only = routee(nodeA, "only");
    OutlierDetector outliers = outliers(1, SECOND);
    PolicyRoutees routees = new PolicyRoutees(outliers);
    routees.update(List.of(only));
    routees.replied(only, null, "only", true, 0, 0);
    assertEquals(only, routees.nextDirect(List.of(only), 0));
    assertFalse(outliers.timedOut(only, 0), "its requests would have nowhere else to go");
    assertFalse(outliers.eject(only, 0));
    assertEquals(only, routees.nextDirect(List.of(), 0));
  }

  @Test
  void aRetryPrefersAnEjectedRouteeItHasNotTriedToOneThatFailedIt() {
    ActorRef<Routee.Command> healthy = routee(nodeA, "panic-a");
    ActorRef<Routee.Command> dying = routee(nodeB, "panic-b");
    OutlierDetector outliers = outliers(2, 10 * SECOND);
    PolicyRoutees routees = new PolicyRoutees(outliers);
    routees.update(List.of(healthy, dying));
    routees.replied(healthy, null, "a", true, 0, 0);
    routees.replied(dying, null, "b", true, 0, 0);
    // A pause ejected the healthy one; then the other one stops answering.
    assertTrue(outliers.eject(healthy, 0));
    Attempt first = Attempt.first(null, new RouterActor.Route("c", "p", "x", null), 0, SECOND);
    Attempt sent = routees.choose(first, 0);
    assertEquals(dying, sent.target(), "first attempts skip the ejected one");
    assertEquals(healthy, routees.choose(sent.next(), 0).target(), "the retry does not repeat it");
  }

  @Test
  void failuresAndEjectionsSurviveListingUpdatesAndARouteeThatLeavesAndComesBack() {
    ActorRef<Routee.Command> flapping = routee(nodeA, "flap-1");
    ActorRef<Routee.Command> steady = routee(nodeA, "flap-2");
    OutlierDetector outliers = outliers(2, 10 * SECOND);
    PolicyRoutees routees = new PolicyRoutees(outliers);
    routees.update(List.of(flapping, steady));
    assertFalse(outliers.timedOut(flapping, 0));
    // It drops out of the listing (a legacy backend's connection closed) and comes back.
    routees.update(List.of(steady));
    routees.update(List.of(flapping, steady));
    assertTrue(outliers.timedOut(flapping, 0), "the second failure in a row ejects");
    routees.update(List.of(steady));
    routees.update(List.of(flapping, steady));
    assertTrue(outliers.ejected(flapping, SECOND), "still ejected after coming back");
    assertEquals(steady, routees.nextDirect(List.of(), SECOND));
  }

  @Test
  void aRouteeThatLeftTheListingUnsteadyKeepsFirstAttemptsDirectForAWhile() {
    ActorRef<Routee.Command> a = routee(nodeA, "left-a");
    ActorRef<Routee.Command> b = routee(nodeA, "left-b");
    ActorRef<Routee.Command> c = routee(nodeA, "left-c");
    ActorRef<Routee.Command> d = routee(nodeA, "left-d");
    OutlierDetector outliers = outliers(1, 10 * SECOND);
    PolicyRoutees routees = new PolicyRoutees(outliers);
    routees.update(List.of(a, b, c), 0);
    routees.replied(a, null, "A", true, 0, 0);
    routees.replied(b, null, "B", true, 0, 0);
    routees.replied(c, null, "C", true, 0, 0);
    assertTrue(routees.mayUseGroupRouter(0));
    assertTrue(outliers.timedOut(c, 0));
    // Ejected, c leaves the listing; the group router may still list it, or list it again first.
    routees.update(List.of(a, b), SECOND);
    assertFalse(routees.mayUseGroupRouter(2 * SECOND));
    long watched = SECOND + OutlierDetector.DEPARTED_WATCH_NANOS;
    assertTrue(routees.mayUseGroupRouter(watched + 1), "gone for good, as far as can be told");
    // Likewise a routee that left before it ever answered.
    routees.update(List.of(a, b, d), watched + 2);
    routees.update(List.of(a, b), watched + 3);
    assertFalse(routees.mayUseGroupRouter(watched + 4));
    assertTrue(routees.mayUseGroupRouter(watched + 3 + OutlierDetector.DEPARTED_WATCH_NANOS));
  }

  @Test
  void aRouteeThatNeverAnsweredIsEjectedWhateverTheCapSinceItIsNoCapacity() {
    ActorRef<Routee.Command> a = routee(nodeA, "nocap-a");
    ActorRef<Routee.Command> b = routee(nodeA, "nocap-b");
    ActorRef<Routee.Command> silent = routee(nodeA, "nocap-silent");
    OutlierDetector outliers = outliers(1, 10 * SECOND, 50);
    PolicyRoutees routees = new PolicyRoutees(outliers);
    routees.update(List.of(a, b, silent));
    routees.replied(a, null, "a", true, 0, 0);
    routees.replied(b, null, "b", true, 0, 0);
    // A pause got a healthy routee ejected: the one ejection 50% of 3 allows.
    assertTrue(outliers.eject(a, 0));
    assertFalse(outliers.eject(b, 0), "the cap");
    assertTrue(outliers.eject(silent, 0), "it never served: ejecting it costs nothing");
  }

  @Test
  void aRetryDoesNotGoToAnEjectedRouteeThatNeverAnswered() {
    ActorRef<Routee.Command> healthy = routee(nodeA, "noretry-a");
    ActorRef<Routee.Command> silent = routee(nodeB, "noretry-silent");
    OutlierDetector outliers = outliers(2, 10 * SECOND);
    PolicyRoutees routees = new PolicyRoutees(outliers);
    routees.update(List.of(healthy, silent));
    routees.replied(healthy, null, "a", true, 0, 0);
    assertTrue(outliers.eject(silent, 0));
    Attempt first = Attempt.first(null, new RouterActor.Route("c", "p", "x", null), 0, SECOND);
    Attempt sent = routees.choose(first, 0);
    assertEquals(healthy, sent.target());
    // Its one routee failed this request: an ejected routee that did serve would be tried (its
    // ejection is a guess), one that never answered is no better guess than the one that failed.
    assertEquals(healthy, routees.choose(sent.next(), 0).target());
  }

  @Test
  void twoRouteesThatNeverAnsweredAreNeverBothEjected() {
    ActorRef<Routee.Command> a = routee(nodeA, "cold-a");
    ActorRef<Routee.Command> b = routee(nodeA, "cold-b");
    OutlierDetector outliers = outliers(1, 10 * SECOND, 50);
    PolicyRoutees routees = new PolicyRoutees(outliers);
    routees.update(List.of(a, b));
    assertTrue(outliers.eject(a, 0));
    assertFalse(outliers.eject(b, 0), "the last routee not ejected stays, cold or not");
  }
}
