package revproxy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.receptionist.Receptionist;
import java.time.Duration;
import revproxy.routee.Routee;

/** Waiting for the receptionist, as tests must: registration and gossip take a moment. */
public final class Routees {

  private Routees() {}

  /** Blocks until {@code node}'s receptionist lists exactly {@code count} routees of the policy. */
  public static void await(ActorTestKit node, String policy, int count) {
    TestProbe<Receptionist.Listing> probe = node.createTestProbe();
    probe.awaitAssert(
        Duration.ofSeconds(30),
        () -> {
          node.system()
              .receptionist()
              .tell(Receptionist.find(Routee.serviceKey(policy), probe.getRef()));
          assertEquals(
              count,
              probe.receiveMessage().getServiceInstances(Routee.serviceKey(policy)).size(),
              "routees of policy " + policy);
          return null;
        });
  }
}
