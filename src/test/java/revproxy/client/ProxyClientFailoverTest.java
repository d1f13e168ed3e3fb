package revproxy.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.util.ByteString;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import revproxy.TestConfigs;
import revproxy.TestSockets;
import revproxy.protocol.Decoded;
import revproxy.protocol.JsonObjectScanner;
import revproxy.protocol.Packet;
import revproxy.protocol.PacketCodec;
import revproxy.protocol.PayloadHash;

/** The client with several proxies: a connection that fails or breaks fails over to the next. */
class ProxyClientFailoverTest {

  static final ActorTestKit testKit = ActorTestKit.create(TestConfigs.local());

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  /**
   * A stand-in proxy: on each connection it answers up to {@code answerThenClose} requests
   * correctly (as worker {@code id}), then closes; it records the srcid of every request it read.
   */
  private static final class FakeProxy implements AutoCloseable {
    final ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    final List<String> received = Collections.synchronizedList(new ArrayList<>());

    FakeProxy(String id, int answerThenClose) throws IOException {
      Thread thread =
          new Thread(
              () -> {
                while (!socket.isClosed()) {
                  try (Socket connection = socket.accept()) {
                    serve(connection, id, answerThenClose);
                  } catch (IOException closed) {
                    // the test is over
                  }
                }
              });
      thread.setDaemon(true);
      thread.start();
    }

    private void serve(Socket connection, String id, int limit) throws IOException {
      InputStream in = connection.getInputStream();
      OutputStream out = connection.getOutputStream();
      JsonObjectScanner scanner = new JsonObjectScanner(65536);
      ByteString pending = ByteString.emptyByteString();
      byte[] buffer = new byte[4096];
      int answered = 0;
      int n;
      while (answered < limit && (n = in.read(buffer)) > 0) {
        pending = pending.concat(ByteString.fromArray(buffer, 0, n));
        java.nio.ByteBuffer bytes = pending.toByteBuffer();
        while (answered < limit) {
          JsonObjectScanner.Event event = scanner.next(bytes);
          if (event != JsonObjectScanner.Event.OBJECT) {
            break;
          }
          int end = bytes.position();
          ByteString object = pending.slice(end - scanner.objectLength(), end);
          Packet.Request request =
              (Packet.Request) ((Decoded.Ok) PacketCodec.decode(object)).packet();
          received.add(request.srcid());
          out.write(
              PacketCodec.encode(
                      new Packet.Reply(id, request.srcid(), PayloadHash.sha1Hex(request.payload())))
                  .toArray());
          answered++;
        }
        pending = pending.drop(bytes.position());
      }
    }

    InetSocketAddress address() {
      return InetSocketAddress.createUnresolved("127.0.0.1", socket.getLocalPort());
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  private static ProxyClient client(List<InetSocketAddress> proxies) {
    return new ProxyClient(
        testKit.system(),
        new ClientSettings(
            proxies, Duration.ofSeconds(10), Duration.ofSeconds(1), 65536, Optional.empty()));
  }

  private static List<ByteString> requests(int count) {
    List<ByteString> requests = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      requests.add(PacketCodec.encode(new Packet.Request("r" + i, "111", "payload-" + i)));
    }
    return requests;
  }

  private static void assertAllAnswered(List<Decoded> replies, int count, List<String> servedBy) {
    assertEquals(count, replies.size());
    for (int i = 0; i < count; i++) {
      Packet.Reply reply = (Packet.Reply) ((Decoded.Ok) replies.get(i)).packet();
      assertEquals("r" + i, reply.destId());
      assertEquals(PayloadHash.sha1Hex("payload-" + i), reply.payloadHash());
      assertEquals(servedBy.get(i), reply.workerId(), "reply " + i);
    }
  }

  @Test
  void aConnectionThatBreaksFailsOverAndOnlyTheRequestsWithoutAReplyAreSentAgain()
      throws Exception {
    try (FakeProxy first = new FakeProxy("first", 2);
        FakeProxy second = new FakeProxy("second", 100)) {
      List<Decoded> replies =
          client(List.of(first.address(), second.address()))
              .exchange(requests(5), Duration.ofSeconds(10));
      assertAllAnswered(replies, 5, List.of("first", "first", "second", "second", "second"));
      assertEquals(List.of("r2", "r3", "r4"), second.received);
    }
  }

  @Test
  void aProxyThatCannotBeReachedIsSkipped() throws Exception {
    int closed = TestSockets.unusedPort();
    try (FakeProxy second = new FakeProxy("second", 100)) {
      List<Decoded> replies =
          client(List.of(InetSocketAddress.createUnresolved("127.0.0.1", closed), second.address()))
              .exchange(requests(3), Duration.ofSeconds(10));
      assertAllAnswered(replies, 3, List.of("second", "second", "second"));
    }
  }

  @Test
  void withNoProxyReachableTheErrorNamesTheLastOneTried() throws Exception {
    int a = TestSockets.unusedPort();
    int b = TestSockets.unusedPort();
    ProxyClient.ConnectionFailedException failure =
        org.junit.jupiter.api.Assertions.assertThrows(
            ProxyClient.ConnectionFailedException.class,
            () ->
                client(
                        List.of(
                            InetSocketAddress.createUnresolved("127.0.0.1", a),
                            InetSocketAddress.createUnresolved("127.0.0.1", b)))
                    .exchange(requests(1), Duration.ofSeconds(5)));
    org.junit.jupiter.api.Assertions.assertTrue(
        failure.getMessage().startsWith("cannot exchange packets with the proxy at 127.0.0.1:" + b),
        failure.getMessage());
  }
}
