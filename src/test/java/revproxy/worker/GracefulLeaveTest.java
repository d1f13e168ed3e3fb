package revproxy.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.receptionist.Receptionist;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import revproxy.TestConfigs;
import revproxy.cluster.NodeConfig;
import revproxy.routee.Routee;

/**
 * Whether a leaving worker node holds the last worker of a policy: only routees that answer count
 * as the policy's other workers, not every listed one (a node that crashed a moment ago is listed
 * until it is marked unreachable).
 */
class GracefulLeaveTest {

  /** A worker node alone in its cluster: the leave looks at the cluster's members too. */
  static final ActorTestKit testKit =
      ActorTestKit.create(NodeConfig.SYSTEM_NAME, TestConfigs.clusterNode("worker"));

  @BeforeAll
  static void joinItself() {
    Cluster cluster = Cluster.get(testKit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    testKit
        .createTestProbe()
        .awaitAssert(
            Duration.ofSeconds(20),
            () -> {
              assertEquals(MemberStatus.up(), cluster.selfMember().status());
              return null;
            });
  }

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  /** Spawns {@code behavior}, registers it under {@code policy} and waits until it is listed. */
  private static ActorRef<Routee.Command> registered(
      String policy, Behavior<Routee.Command> behavior) {
    ActorRef<Routee.Command> ref = testKit.spawn(behavior);
    TestProbe<Receptionist.Registered> probe = testKit.createTestProbe();
    testKit
        .system()
        .receptionist()
        .tell(Receptionist.register(Routee.serviceKey(policy), ref, probe.getRef()));
    probe.expectMessageClass(Receptionist.Registered.class);
    TestProbe<Receptionist.Listing> listings = testKit.createTestProbe();
    listings.awaitAssert(
        () -> {
          testKit
              .system()
              .receptionist()
              .tell(Receptionist.find(Routee.serviceKey(policy), listings.getRef()));
          assertTrue(
              listings
                  .receiveMessage()
                  .getServiceInstances(Routee.serviceKey(policy))
                  .contains(ref),
              "listed");
          return null;
        });
    return ref;
  }

  private static GracefulLeave.Worker ours(String policy) {
    return new GracefulLeave.Worker(
        new WorkerSpec("ours-" + policy, policy), registered(policy, Behaviors.ignore()));
  }

  /** Runs the leave's wait with a deadline 2 s away; asserts it ends no sooner. */
  private static void assertLeavesAtItsDeadline(List<GracefulLeave.Worker> workers)
      throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
    long left =
        GracefulLeave.awaitReplacements(testKit.system(), workers, deadline)
            .thenApply(done -> System.nanoTime())
            .toCompletableFuture()
            .get(20, TimeUnit.SECONDS);
    assertTrue(left - deadline >= 0, "left " + (deadline - left) / 1_000_000 + " ms early");
  }

  /** The first policy held, or null. */
  private static GracefulLeave.Holding lastWorkerOf(List<GracefulLeave.Worker> workers)
      throws Exception {
    List<GracefulLeave.Holding> holdings = holdings(workers);
    return holdings.isEmpty() ? null : holdings.get(0);
  }

  private static List<GracefulLeave.Holding> holdings(List<GracefulLeave.Worker> workers)
      throws Exception {
    return GracefulLeave.holdings(testKit.system(), workers, Duration.ofSeconds(1))
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
  }

  @Test
  void aPolicyThatOnlyThisNodeServesIsAlone() throws Exception {
    assertEquals(
        new GracefulLeave.Holding("gl-alone", false), lastWorkerOf(List.of(ours("gl-alone"))));
  }

  @Test
  void aPolicyWithAnotherWorkerThatAnswersIsNotAlone() throws Exception {
    GracefulLeave.Worker ours = ours("gl-served");
    registered("gl-served", HashWorker.create("other", "gl-served-unused"));

    assertNull(lastWorkerOf(List.of(ours)));
  }

  @Test
  void aListedRouteeThatDoesNotAnswerIsNoReplacement() throws Exception {
    GracefulLeave.Worker ours = ours("gl-silent");
    registered("gl-silent", Behaviors.ignore()); // as a node that has just crashed

    long start = System.nanoTime();
    assertEquals(new GracefulLeave.Holding("gl-silent", true), lastWorkerOf(List.of(ours)));
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    assertTrue(took.toMillis() >= 900, "waited for the probe's answer first: " + took);
  }

  @Test
  void aRouteeThatRefusesIsNoReplacement() throws Exception {
    GracefulLeave.Worker ours = ours("gl-refuses");
    registered(
        "gl-refuses",
        Behaviors.receiveMessage(
            command -> {
              if (command instanceof Routee.Hash hash) {
                hash.refuse("leaving", "node leaving");
              }
              return Behaviors.same();
            }));

    assertEquals(new GracefulLeave.Holding("gl-refuses", true), lastWorkerOf(List.of(ours)));
  }

  @Test
  void oneAnsweringRouteeAmongSilentOnesIsEnough() throws Exception {
    GracefulLeave.Worker ours = ours("gl-mixed");
    registered("gl-mixed", Behaviors.ignore());
    registered("gl-mixed", HashWorker.create("other", "gl-mixed-unused"));

    assertNull(lastWorkerOf(List.of(ours)));
  }

  @Test
  void reportsTheFirstOfSeveralPoliciesThatIsAlone() throws Exception {
    GracefulLeave.Worker served = ours("gl-first");
    registered("gl-first", HashWorker.create("other", "gl-first-unused"));
    GracefulLeave.Worker alone = ours("gl-second");

    assertEquals(
        new GracefulLeave.Holding("gl-second", false), lastWorkerOf(List.of(served, alone)));
  }

  @Test
  void aLeaveWaitsUntilItsDeadlineWhileTheOtherListedRouteeIsSilent() throws Exception {
    GracefulLeave.Worker ours = ours("gl-wait");
    registered("gl-wait", Behaviors.ignore());

    assertLeavesAtItsDeadline(List.of(ours));
  }

  @Test
  void aLeaveDoesNotWaitWhenAnotherRouteeAnswers() throws Exception {
    GracefulLeave.Worker ours = ours("gl-go");
    registered("gl-go", HashWorker.create("other", "gl-go-unused"));

    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    GracefulLeave.awaitReplacements(testKit.system(), List.of(ours), deadline)
        .toCompletableFuture()
        .get(20, TimeUnit.SECONDS);
  }

  @Test
  void aLeaveDoesNotWaitWhenThePolicyIsAloneAndNoWorkerNodeJoins() throws Exception {
    GracefulLeave.Worker ours = ours("gl-only");

    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    GracefulLeave.awaitReplacements(testKit.system(), List.of(ours), deadline)
        .toCompletableFuture()
        .get(20, TimeUnit.SECONDS);
  }

  @Test
  void everyPolicyIsChecked() throws Exception {
    GracefulLeave.Worker alone = ours("gl-all-alone");
    GracefulLeave.Worker served = ours("gl-all-served");
    registered("gl-all-served", HashWorker.create("other", "gl-all-served-unused"));
    GracefulLeave.Worker silent = ours("gl-all-silent");
    registered("gl-all-silent", Behaviors.ignore());

    assertEquals(
        List.of(
            new GracefulLeave.Holding("gl-all-alone", false),
            new GracefulLeave.Holding("gl-all-silent", true)),
        holdings(List.of(alone, served, silent)));
  }

  @Test
  void aLeaveWaitsForASilentPolicyEvenWhenAnEarlierPolicyIsAloneAndNoWorkerNodeJoins()
      throws Exception {
    GracefulLeave.Worker alone = ours("gl-order-alone");
    GracefulLeave.Worker silent = ours("gl-order-silent");
    registered("gl-order-silent", Behaviors.ignore());

    assertLeavesAtItsDeadline(List.of(alone, silent));
  }

  @Test
  void aRouteeOnANodeWithoutTheWorkerRoleCountsWithoutAProbe() throws Exception {
    // As a proxy's legacy backend: a probe would be a real request to its server.
    ActorTestKit proxy =
        ActorTestKit.create(NodeConfig.SYSTEM_NAME, TestConfigs.clusterNode("proxy"));
    try {
      Cluster.get(proxy.system())
          .manager()
          .tell(Join.create(Cluster.get(testKit.system()).selfMember().address()));
      GracefulLeave.Worker ours = ours("gl-legacy");
      ActorRef<Routee.Command> silent = proxy.spawn(Behaviors.ignore());
      proxy
          .system()
          .receptionist()
          .tell(Receptionist.register(Routee.serviceKey("gl-legacy"), silent));
      TestProbe<Receptionist.Listing> listings = testKit.createTestProbe();
      listings.awaitAssert(
          Duration.ofSeconds(20),
          () -> {
            testKit
                .system()
                .receptionist()
                .tell(Receptionist.find(Routee.serviceKey("gl-legacy"), listings.getRef()));
            assertEquals(
                2,
                listings
                    .receiveMessage()
                    .getServiceInstances(Routee.serviceKey("gl-legacy"))
                    .size());
            return null;
          });

      // Probed, the silent routee would leave the policy held (othersListed).
      assertNull(lastWorkerOf(List.of(ours)));
    } finally {
      proxy.shutdownTestKit();
    }
  }
}
