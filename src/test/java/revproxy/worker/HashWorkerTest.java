package revproxy.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.receptionist.Receptionist;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import revproxy.TestConfigs;
import revproxy.routee.Routee;

class HashWorkerTest {

  static final ActorTestKit testKit = ActorTestKit.create(TestConfigs.local());

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void answersWithItsIdAndTheLowercaseSha1OfTheUtf8Payload() {
    ActorRef<Routee.Command> worker = testKit.spawn(HashWorker.create("100", "hw-111"));
    TestProbe<Routee.Reply> probe = testKit.createTestProbe();

    worker.tell(new Routee.Hash(7, "c1", "abc", probe.getRef()));
    probe.expectMessage(new Routee.Hashed(7, "100", "a9993e364706816aba3e25717850c26c9cd0d89d"));

    worker.tell(new Routee.Hash(8, "c1", "", probe.getRef()));
    probe.expectMessage(new Routee.Hashed(8, "100", "da39a3ee5e6b4b0d3255bfef95601890afd80709"));

    // python3 -c 'import hashlib; print(hashlib.sha1("Grüße ✓".encode()).hexdigest())'
    worker.tell(new Routee.Hash(-9, "c1", "Grüße ✓", probe.getRef()));
    probe.expectMessage(new Routee.Hashed(-9, "100", "5abe2de6e43e1f34d26ab49223c2df755f4504d7"));
  }

  @Test
  void registersItselfUnderItsPolicyKey() {
    ActorRef<Routee.Command> worker = testKit.spawn(HashWorker.create("200", "hw-222"));
    TestProbe<Receptionist.Listing> probe = testKit.createTestProbe();

    probe.awaitAssert(
        () -> {
          testKit
              .system()
              .receptionist()
              .tell(Receptionist.find(Routee.serviceKey("hw-222"), probe.getRef()));
          Receptionist.Listing listing = probe.receiveMessage();
          assertEquals(
              java.util.Set.of(worker), listing.getServiceInstances(Routee.serviceKey("hw-222")));
          return null;
        });
  }
}
