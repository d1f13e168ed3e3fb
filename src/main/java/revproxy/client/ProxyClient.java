package revproxy.client;

import static revproxy.util.Completions.rootMessage;

import akka.actor.typed.ActorSystem;
import akka.stream.IgnoreComplete$;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.stream.javadsl.Tcp;
import akka.util.ByteString;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import revproxy.protocol.Decoded;
import revproxy.protocol.Packet;
import revproxy.protocol.PacketCodec;
import revproxy.protocol.PacketFraming;
import revproxy.tls.TlsDir;

/**
 * A stream client of the proxy: sends requests pipelined on one TCP connection and reads the
 * replies, which the proxy writes in request order.
 */
public final class ProxyClient {

  private static final Duration PROBE_PAUSE = Duration.ofMillis(200);
  private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(3);

  private final ActorSystem<?> system;
  private final ClientSettings settings;

  public ProxyClient(ActorSystem<?> system, ClientSettings settings) {
    this.system = system;
    this.settings = settings;
  }

  /** Sends every packet on one connection and pairs each with its reply (null: none came). */
  public List<Exchange> send(List<PacketFile> packets) throws ConnectionFailedException {
    List<ByteString> requests = new ArrayList<>(packets.size());
    for (PacketFile packet : packets) {
      requests.add(packet.bytes());
    }
    List<Decoded> replies = exchange(requests, settings.timeout());
    List<Exchange> exchanges = new ArrayList<>(packets.size());
    for (int i = 0; i < packets.size(); i++) {
      exchanges.add(new Exchange(packets.get(i), i < replies.size() ? replies.get(i) : null));
    }
    return exchanges;
  }

  /**
   * Sends the requests, pipelined, and returns the replies in order, as decoded (a reply that does
   * not decode is {@link Decoded.Refused}): all of them, or fewer if {@code timeout} passed first.
   * With several proxies, a connection that fails or breaks before every reply is in fails over to
   * the next proxy, which gets the requests that had no reply yet (hashing is idempotent); each
   * proxy is tried at most twice. Fails only if no proxy could be reached at all.
   */
  public List<Decoded> exchange(List<ByteString> requests, Duration timeout)
      throws ConnectionFailedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<InetSocketAddress> proxies = settings.proxies();
    List<Decoded> replies = new ArrayList<>(requests.size());
    ConnectionFailedException last = null;
    for (int round = 0; round < 2 * proxies.size() && replies.size() < requests.size(); round++) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        break;
      }
      InetSocketAddress proxy = proxies.get(round % proxies.size());
      try {
        List<ByteString> unanswered = requests.subList(replies.size(), requests.size());
        replies.addAll(exchangeOnce(proxy, unanswered, Duration.ofNanos(left)));
        last = null;
      } catch (ConnectionFailedException e) {
        last = e;
      }
    }
    if (last != null && replies.isEmpty()) {
      throw last;
    }
    return replies;
  }

  /** One connection to {@code proxy}: the replies it gave before it closed or the time was up. */
  private List<Decoded> exchangeOnce(
      InetSocketAddress proxy, List<ByteString> requests, Duration timeout)
      throws ConnectionFailedException {
    CompletionStage<List<Decoded>> replies =
        Source.from(requests)
            .via(connection(proxy))
            .via(PacketFraming.flow(settings.maxReplyBytes()))
            .map(PacketCodec::decode)
            .take(requests.size())
            .takeWithin(timeout)
            .runWith(Sink.seq(), system);
    try {
      return replies.toCompletableFuture().get(timeout.toMillis() + 5_000, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw new ConnectionFailedException(proxy, e.getCause());
    } catch (TimeoutException e) {
      throw new ConnectionFailedException(proxy, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ConnectionFailedException(proxy, e);
    }
  }

  /**
   * One connection to the proxy, plain or TLS. Over TLS the session stays open after the last
   * request is sent ({@code ignoreComplete}) and closes once every reply is in or the time is up,
   * which cancels the stream: closing the sending side of a TLS 1.2 session closes both.
   */
  private Flow<ByteString, ByteString, ?> connection(InetSocketAddress proxy) {
    String host = proxy.getHostString();
    int port = proxy.getPort();
    if (settings.tls().isEmpty()) {
      return Tcp.get(system).outgoingConnection(host, port);
    }
    TlsDir tls = settings.tls().get();
    return Tcp.get(system)
        .outgoingConnectionWithTls(
            InetSocketAddress.createUnresolved(host, port),
            () -> tls.clientEngine(host, port),
            Optional.empty(),
            List.of(),
            Optional.empty(),
            Optional.empty(),
            session -> Optional.empty(),
            IgnoreComplete$.MODULE$);
  }

  /**
   * Waits until each policy is served by at least the given number of distinct workers, probing
   * with real requests (twice as many per policy as workers expected, since routing is round
   * robin). Returns the workers seen per policy at the last probe; the caller compares with what it
   * expected.
   */
  public Map<String, Set<String>> awaitWorkers(Map<String, Integer> expected, Duration wait) {
    long deadline = System.nanoTime() + wait.toNanos();
    Map<String, Set<String>> seen = new HashMap<>();
    while (true) {
      seen = probe(expected);
      if (satisfied(expected, seen) || System.nanoTime() > deadline) {
        return seen;
      }
      try {
        Thread.sleep(PROBE_PAUSE.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return seen;
      }
    }
  }

  /** True when each policy has at least its expected number of distinct workers. */
  public static boolean satisfied(Map<String, Integer> expected, Map<String, Set<String>> seen) {
    for (Map.Entry<String, Integer> policy : expected.entrySet()) {
      if (seen.getOrDefault(policy.getKey(), Set.of()).size() < policy.getValue()) {
        return false;
      }
    }
    return true;
  }

  private Map<String, Set<String>> probe(Map<String, Integer> expected) {
    List<String> policies = new ArrayList<>();
    List<ByteString> requests = new ArrayList<>();
    for (Map.Entry<String, Integer> policy : expected.entrySet()) {
      for (int i = 0; i < 2 * policy.getValue(); i++) {
        policies.add(policy.getKey());
        requests.add(
            PacketCodec.encode(new Packet.Request("readiness-probe", policy.getKey(), "probe")));
      }
    }
    Map<String, Set<String>> seen = new HashMap<>();
    try {
      List<Decoded> replies = exchange(requests, PROBE_TIMEOUT);
      for (int i = 0; i < replies.size(); i++) {
        if (replies.get(i) instanceof Decoded.Ok ok && ok.packet() instanceof Packet.Reply reply) {
          seen.computeIfAbsent(policies.get(i), p -> new TreeSet<>()).add(reply.workerId());
        }
      }
    } catch (ConnectionFailedException notListeningYet) {
      // the proxy is still starting: the next probe tries again
    }
    return seen;
  }

  /** The proxy could not be reached, or the connection broke. */
  public static final class ConnectionFailedException extends Exception {
    ConnectionFailedException(InetSocketAddress proxy, Throwable cause) {
      super(
          "cannot exchange packets with the proxy at "
              + proxy.getHostString()
              + ":"
              + proxy.getPort()
              + ": "
              + rootMessage(cause),
          cause);
    }
  }
}
