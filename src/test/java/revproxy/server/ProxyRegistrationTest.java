package revproxy.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.Done;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import revproxy.TestConfigs;
import revproxy.TestSockets;
import revproxy.protocol.Packet;
import revproxy.util.Completions;

/** How the `server` role registers with a proxy, against raw sockets standing for the proxy. */
class ProxyRegistrationTest {

  static final ActorTestKit testKit = ActorTestKit.create(TestConfigs.local());
  static final Duration TIMEOUT = Duration.ofSeconds(3);
  static final Duration REPLY_WAIT = Duration.ofMillis(500);
  static final String REGISTRATION =
      "{\"type\": \"1\", \"id\": \"100\", \"privPolyId\": \"111\", \"listenport\": \"2105\"}";

  /** A type "3" without its message is no refusal: the answer does not decode at all. */
  static final String UNREADABLE =
      "{\"type\": \"3\", \"destid\": \"100\", \"code\": \"registration_refused\"}";

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static CompletableFuture<Done> registerOnce(int port, Packet.Registration registration) {
    return ProxyRegistration.register(
            testKit.system(), "127.0.0.1", port, registration, TIMEOUT, REPLY_WAIT)
        .toCompletableFuture();
  }

  private static ServerSettings retrySettings(int proxyPort, int attempts) {
    return new ServerSettings(
        "127.0.0.1",
        "127.0.0.1",
        proxyPort,
        65536,
        1,
        null,
        attempts,
        Duration.ofMillis(100),
        Duration.ofMillis(400),
        TIMEOUT,
        REPLY_WAIT);
  }

  /** Reads until the registering side half-closes. */
  private static String readUntilEof(Socket accepted) throws IOException {
    ByteArrayOutputStream received = new ByteArrayOutputStream();
    InputStream in = accepted.getInputStream();
    byte[] buffer = new byte[4096];
    int n;
    while ((n = in.read(buffer)) != -1) {
      received.write(buffer, 0, n);
    }
    return received.toString(StandardCharsets.UTF_8);
  }

  private static ServerSocket fakeProxy(int port) throws IOException {
    ServerSocket proxy = new ServerSocket(port, 50, InetAddress.getLoopbackAddress());
    proxy.setSoTimeout(10_000);
    return proxy;
  }

  @Test
  void writesExactlyTheRegistrationAndTakesSilenceFromAProxyThatKeepsTheConnectionOpen()
      throws Exception {
    try (ServerSocket proxy = fakeProxy(0)) {
      CompletableFuture<Done> registered =
          registerOnce(proxy.getLocalPort(), new Packet.Registration("100", "111", 2105));
      try (Socket accepted = proxy.accept()) {
        accepted.setSoTimeout(10_000);
        assertEquals(REGISTRATION, readUntilEof(accepted));
        // Like the original proxy, this side keeps its end open and sends nothing back: after
        // registration-reply-wait, registering is over.
        assertEquals(Done.getInstance(), registered.get(5, TimeUnit.SECONDS));
        assertFalse(accepted.isClosed());
      }
    }
  }

  @Test
  void aTokenIsSentWhenGiven() throws Exception {
    try (ServerSocket proxy = fakeProxy(0)) {
      CompletableFuture<Done> registered =
          registerOnce(
              proxy.getLocalPort(), new Packet.Registration("100", "111", 2105, 1, "s3cret"));
      try (Socket accepted = proxy.accept()) {
        accepted.setSoTimeout(10_000);
        assertEquals(REGISTRATION.replace("}", ", \"token\": \"s3cret\"}"), readUntilEof(accepted));
        accepted.close();
        assertEquals(Done.getInstance(), registered.get(5, TimeUnit.SECONDS));
      }
    }
  }

  @Test
  void aRefusalFailsTheRegistrationWithTheProxysMessage() throws Exception {
    try (ServerSocket proxy = fakeProxy(0)) {
      CompletableFuture<Done> registered =
          registerOnce(proxy.getLocalPort(), new Packet.Registration("100", "111", 2105));
      try (Socket accepted = proxy.accept()) {
        accepted.setSoTimeout(10_000);
        readUntilEof(accepted);
        accepted
            .getOutputStream()
            .write(
                ("{\"type\": \"3\", \"destid\": \"100\", \"code\": \"registration_refused\","
                        + " \"message\": \"wrong registration token\"}")
                    .getBytes(StandardCharsets.UTF_8));
        accepted.close();
        ExecutionException failure =
            assertThrows(ExecutionException.class, () -> registered.get(5, TimeUnit.SECONDS));
        ProxyRegistration.RefusedException refused =
            assertInstanceOf(ProxyRegistration.RefusedException.class, failure.getCause());
        assertEquals("registration_refused", refused.code());
        assertEquals(
            "the proxy refused the registration (registration_refused): wrong registration token",
            refused.getMessage());
      }
    }
  }

  @Test
  void anUnreadableAnswerFailsTheRegistrationSayingSo() throws Exception {
    try (ServerSocket proxy = fakeProxy(0)) {
      CompletableFuture<Done> registered =
          registerOnce(proxy.getLocalPort(), new Packet.Registration("100", "111", 2105));
      try (Socket accepted = proxy.accept()) {
        accepted.setSoTimeout(10_000);
        readUntilEof(accepted);
        accepted.getOutputStream().write(UNREADABLE.getBytes(StandardCharsets.UTF_8));
        accepted.close();
        ExecutionException failure =
            assertThrows(ExecutionException.class, () -> registered.get(5, TimeUnit.SECONDS));
        ProxyRegistration.UnreadableAnswerException unreadable =
            assertInstanceOf(ProxyRegistration.UnreadableAnswerException.class, failure.getCause());
        assertEquals(
            "the proxy's answer to the registration is unreadable (missing_field): missing field"
                + " \"message\"",
            unreadable.getMessage());
      }
    }
  }

  @Test
  void failsWhenNothingListens() throws Exception {
    int closedPort = TestSockets.unusedPort();
    CompletableFuture<Done> registered =
        registerOnce(closedPort, new Packet.Registration("100", "111", 2105));
    ExecutionException failure =
        assertThrows(ExecutionException.class, () -> registered.get(10, TimeUnit.SECONDS));
    assertTrue(
        Completions.rootMessage(failure).contains("Connection refused"),
        Completions.rootMessage(failure));
  }

  @Test
  void withRetriesGivesUpWithAClearErrorAfterEveryAttempt() throws Exception {
    int closedPort = TestSockets.unusedPort();
    long start = System.nanoTime();
    CompletableFuture<Done> registered =
        ProxyRegistration.registerWithRetries(
                testKit.system(),
                new Packet.Registration("100", "111", 2105),
                retrySettings(closedPort, 3))
            .toCompletableFuture();
    ExecutionException failure =
        assertThrows(ExecutionException.class, () -> registered.get(20, TimeUnit.SECONDS));
    long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
    ProxyRegistration.FailedException cause =
        assertInstanceOf(ProxyRegistration.FailedException.class, failure.getCause());
    assertTrue(
        cause
            .getMessage()
            .startsWith(
                "could not register with the proxy at 127.0.0.1:"
                    + closedPort
                    + " after 3 attempts: "),
        cause.getMessage());
    assertTrue(cause.getMessage().contains("Connection refused"), cause.getMessage());
    // Two waits between three attempts: about 100 ms, then 200 ms (jitter only adds).
    assertTrue(elapsedMillis >= 300, "gave up after only " + elapsedMillis + " ms");
  }

  @Test
  void withRetriesSucceedsOnceTheProxyListens() throws Exception {
    int port = TestSockets.unusedPort();
    CompletableFuture<Done> registered =
        ProxyRegistration.registerWithRetries(
                testKit.system(),
                new Packet.Registration("100", "111", 2105),
                retrySettings(port, 10))
            .toCompletableFuture();
    // The first attempt finds nothing listening; the proxy comes up a little later.
    Thread.sleep(250);
    assertFalse(registered.isDone());
    try (ServerSocket proxy = fakeProxy(port)) {
      try (Socket accepted = proxy.accept()) {
        accepted.setSoTimeout(10_000);
        assertEquals(REGISTRATION, readUntilEof(accepted));
        accepted.close();
      }
      assertEquals(Done.getInstance(), registered.get(10, TimeUnit.SECONDS));
    }
  }

  /** A type "3" refusal with {@code code}, as the proxy sends it. */
  private static String refusal(String code) {
    return "{\"type\": \"3\", \"destid\": \"100\", \"code\": \"%s\", \"message\": \"no\"}"
        .formatted(code);
  }

  /** A fake proxy on {@code proxy} that answers the first {@code answers} registrations. */
  private static Thread answering(
      ServerSocket proxy, int answers, String answer, AtomicInteger seen) {
    Thread thread =
        new Thread(
            () -> {
              try {
                while (true) {
                  try (Socket accepted = proxy.accept()) {
                    accepted.setSoTimeout(10_000);
                    readUntilEof(accepted);
                    if (seen.incrementAndGet() <= answers) {
                      accepted.getOutputStream().write(answer.getBytes(StandardCharsets.UTF_8));
                    }
                  }
                }
              } catch (IOException closed) {
                // the test is over
              }
            });
    thread.start();
    return thread;
  }

  @Test
  void withRetriesRetriesAConflictUntilItIsAccepted() throws Exception {
    AtomicInteger seen = new AtomicInteger();
    try (ServerSocket proxy = fakeProxy(0)) {
      answering(proxy, 2, refusal("registration_conflict"), seen);
      ProxyRegistration.registerWithRetries(
              testKit.system(),
              new Packet.Registration("100", "111", 2105),
              retrySettings(proxy.getLocalPort(), 5))
          .toCompletableFuture()
          .get(20, TimeUnit.SECONDS);
      assertEquals(3, seen.get(), "two conflicts, then accepted");
    }
  }

  @Test
  void withRetriesDoesNotRetryARefusal() throws Exception {
    AtomicInteger seen = new AtomicInteger();
    try (ServerSocket proxy = fakeProxy(0)) {
      answering(proxy, 5, refusal("registration_refused"), seen);
      CompletableFuture<Done> registered =
          ProxyRegistration.registerWithRetries(
                  testKit.system(),
                  new Packet.Registration("100", "111", 2105),
                  retrySettings(proxy.getLocalPort(), 5))
              .toCompletableFuture();
      ExecutionException failure =
          assertThrows(ExecutionException.class, () -> registered.get(20, TimeUnit.SECONDS));
      assertInstanceOf(ProxyRegistration.RefusedException.class, failure.getCause());
      Thread.sleep(300);
      assertEquals(1, seen.get(), "a refusal is final");
    }
  }

  @Test
  void withRetriesDoesNotRetryAnUnreadableAnswer() throws Exception {
    AtomicInteger seen = new AtomicInteger();
    try (ServerSocket proxy = fakeProxy(0)) {
      answering(proxy, 5, UNREADABLE, seen);
      CompletableFuture<Done> registered =
          ProxyRegistration.registerWithRetries(
                  testKit.system(),
                  new Packet.Registration("100", "111", 2105),
                  retrySettings(proxy.getLocalPort(), 5))
              .toCompletableFuture();
      ExecutionException failure =
          assertThrows(ExecutionException.class, () -> registered.get(20, TimeUnit.SECONDS));
      assertInstanceOf(ProxyRegistration.UnreadableAnswerException.class, failure.getCause());
      Thread.sleep(300);
      assertEquals(1, seen.get(), "an unreadable answer is final");
    }
  }
}
