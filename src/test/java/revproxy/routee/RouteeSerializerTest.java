package revproxy.routee;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.Adapter;
import akka.serialization.Serialization;
import akka.serialization.SerializationExtension;
import akka.serialization.Serializer;
import java.io.NotSerializableException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import revproxy.TestConfigs;

class RouteeSerializerTest {

  static final ActorTestKit testKit = ActorTestKit.create(TestConfigs.clusterNode("proxy"));
  static final Serialization serialization =
      SerializationExtension.get(Adapter.toClassic(testKit.system()));
  static final RouteeSerializer serializer =
      (RouteeSerializer) serialization.serializerByIdentity().apply(RouteeSerializer.IDENTIFIER);

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static final String SHA1_ABC = "a9993e364706816aba3e25717850c26c9cd0d89d";

  private static Object roundTrip(Object message) throws NotSerializableException {
    Serializer chosen = serialization.findSerializerFor(message);
    assertSame(serializer, chosen, "the routee serializer for " + message.getClass());
    byte[] bytes = serializer.toBinary(message);
    String manifest = serializer.manifest(message);
    Object fromBytes = serializer.fromBinary(bytes, manifest);
    // As Artery does it: into and out of a direct buffer, at an offset.
    ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length + 100);
    direct.position(7);
    serializer.toBinary(message, direct);
    assertEquals(7 + bytes.length, direct.position(), "both paths write the same bytes");
    direct.flip().position(7);
    Object fromBuffer = serializer.fromBinary(direct, manifest);
    assertEquals(0, direct.remaining(), "read to the end");
    assertEquals(fromBytes, fromBuffer);
    return fromBytes;
  }

  @Test
  void everyRouteeMessageComesBackEqual() throws Exception {
    TestProbe<Routee.Reply> probe = testKit.createTestProbe();
    ActorRef<Routee.Reply> replyTo = probe.getRef();
    List<Object> messages =
        List.of(
            new Routee.Hash(Long.MIN_VALUE, "c1", "abc", replyTo),
            new Routee.Hash(-1, "", "", replyTo),
            new Routee.Hash(42, "Grüße ✓ 𝄞", "{\"nested\": \"ü\"}", replyTo),
            new Routee.HashBatch(
                List.of(
                    new Routee.Hash(1, "a", "x", replyTo), new Routee.Hash(2, "b", "y", replyTo))),
            new Routee.Hashed(Long.MAX_VALUE, "100", SHA1_ABC),
            new Routee.Hashed(3, "w", "NOT-HEX"),
            new Routee.Hashed(4, "w", SHA1_ABC.toUpperCase()),
            new Routee.Unavailable(5, "300", "busy: too many queued requests"),
            new Routee.Answers(
                List.of(
                    new Routee.Hashed(6, "100", SHA1_ABC),
                    new Routee.Unavailable(7, "100", "down"),
                    new Routee.Hashed(8, "ü", "short"))));
    for (Object message : messages) {
      assertEquals(message, roundTrip(message), message.toString());
    }
  }

  @Test
  void aBatchWritesItsReplyToOnceAndTheHashAsTwentyBytes() {
    ActorRef<Routee.Reply> replyTo = testKit.<Routee.Reply>createTestProbe().getRef();
    Routee.Hash one = new Routee.Hash(1, "c", "p", replyTo);
    int single = serializer.toBinary(one).length;
    Routee.Hash[] ten = new Routee.Hash[10];
    Arrays.fill(ten, one);
    int batch = serializer.toBinary(new Routee.HashBatch(List.of(ten))).length;
    // Each further request: 8 (id) + 2 + 2 (srcid, payload) + 1 (ref index) bytes.
    assertEquals(1 + single + 9 * 13, batch);
    // 8 (id) + 4 (worker id) + 1 + 20 (hash).
    assertEquals(33, serializer.toBinary(new Routee.Hashed(1, "100", SHA1_ABC)).length);
  }

  @Test
  void aResolvedReplyToIsTheSameRefEachTime() throws Exception {
    ActorRef<Routee.Reply> replyTo = testKit.<Routee.Reply>createTestProbe().getRef();
    Routee.Hash hash = new Routee.Hash(1, "c", "p", replyTo);
    byte[] bytes = serializer.toBinary(hash);
    Routee.Hash first = (Routee.Hash) serializer.fromBinary(bytes, "h");
    Routee.Hash second = (Routee.Hash) serializer.fromBinary(bytes, "h");
    assertEquals(replyTo, first.replyTo());
    assertSame(first.replyTo(), second.replyTo(), "cached");
  }

  @Test
  void damagedBytesAreRefusedNotMisread() {
    ActorRef<Routee.Reply> replyTo = testKit.<Routee.Reply>createTestProbe().getRef();
    byte[] bytes = serializer.toBinary(new Routee.Hash(1, "c", "payload", replyTo));
    byte[] truncated = Arrays.copyOf(bytes, bytes.length - 3);
    assertThrows(Exception.class, () -> serializer.fromBinary(truncated, "h"));
    byte[] hugeLength = Arrays.copyOf(bytes, bytes.length);
    hugeLength[8] = (byte) 0xFF; // the srcid's length: more bytes than there are
    hugeLength[9] = (byte) 0x7F;
    assertThrows(NotSerializableException.class, () -> serializer.fromBinary(hugeLength, "h"));
    assertThrows(NotSerializableException.class, () -> serializer.fromBinary(bytes, "zz"));
    byte[] badTag =
        serializer.toBinary(new Routee.Answers(List.of(new Routee.Unavailable(1, "w", "r"))));
    badTag[1] = 'x';
    assertThrows(NotSerializableException.class, () -> serializer.fromBinary(badTag, "a"));
    assertTrue(bytes.length > 10);
  }
}
