package revproxy.server;

import static revproxy.cluster.Completions.SAME_THREAD;
import static revproxy.cluster.Completions.rootMessage;

import akka.Done;
import akka.NotUsed;
import akka.actor.typed.ActorSystem;
import akka.pattern.Patterns;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.stream.javadsl.Tcp;
import akka.util.ByteString;
import com.typesafe.config.Config;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import revproxy.protocol.ErrorCode;
import revproxy.protocol.Packet;
import revproxy.protocol.PacketCodec;
import revproxy.protocol.PacketFraming;
import revproxy.protocol.PayloadHash;

/**
 * A legacy-mode backend: our Java version of the tutorial's {@code server.py}. It listens on a TCP
 * port and answers each type "0" request with a type "2" reply carrying the SHA-1 of the payload,
 * and registers itself with the proxy with a type "1" packet, so the proxy puts it in the round
 * robin of its policy beside the cluster's HashWorkers.
 *
 * <p>Unlike {@code server.py} it uses the proxy's own framing and codec, so it serves any number of
 * connections at once, answers pipelined requests in order, and survives any TCP segmentation. It
 * listens before it registers, so the proxy never finds it not listening.
 */
public final class HashServer {

  private static final Logger log = LoggerFactory.getLogger(HashServer.class);

  /** The server's settings, read once from {@code revproxy.server} (see application.conf). */
  public record Settings(
      String host,
      String proxyHost,
      int proxyPort,
      int maxPacketBytes,
      int connections,
      int registrationAttempts,
      Duration registrationMinBackoff,
      Duration registrationMaxBackoff,
      Duration registrationTimeout) {

    public static Settings fromConfig(Config config) {
      Config server = config.getConfig("revproxy.server");
      Settings settings =
          new Settings(
              server.getString("host"),
              server.getString("proxy-host"),
              server.getInt("proxy-port"),
              server.getInt("max-packet-bytes"),
              server.getInt("connections"),
              server.getInt("registration-attempts"),
              server.getDuration("registration-min-backoff"),
              server.getDuration("registration-max-backoff"),
              server.getDuration("registration-timeout"));
      if (settings.maxPacketBytes() < 2) {
        throw new IllegalArgumentException("revproxy.server.max-packet-bytes must be at least 2");
      }
      if (settings.registrationAttempts() < 1) {
        throw new IllegalArgumentException(
            "revproxy.server.registration-attempts must be at least 1");
      }
      return settings;
    }
  }


  private HashServer() {}

  /**
   * Binds {@code host:port} (0 = any free port) and serves every connection as {@code serverId};
   * the stage completes once the port is bound, or fails if it cannot be.
   */
  public static CompletionStage<Tcp.ServerBinding> bind(
      ActorSystem<?> system, String host, int port, String serverId, int maxPacketBytes) {
    Flow<ByteString, ByteString, NotUsed> flow = connectionFlow(serverId, maxPacketBytes);
    return Tcp.get(system)
        .bind(host, port)
        .to(
            Sink.foreach(
                connection -> {
                  log.debug("Connection from {}", connection.remoteAddress());
                  connection.handleWith(flow, system);
                }))
        .run(system);
  }

  /**
   * What one connection runs: bytes -> frames -> packets -> answers -> bytes, one answer per frame,
   * in order. After {@code packet_too_large} the framing ends the stream and the connection closes.
   */
  public static Flow<ByteString, ByteString, NotUsed> connectionFlow(
      String serverId, int maxPacketBytes) {
    return Flow.of(ByteString.class)
        .via(PacketFraming.flow(maxPacketBytes))
        .map(frame -> PacketCodec.encode(answer(serverId, PacketCodec.decodeRequest(frame))));
  }

  /** The answer to one decoded packet. Hashing takes about 100 ns: done right here, in the stage. */
  static Packet answer(String serverId, Packet packet) {
    if (packet instanceof Packet.Request request) {
      return new Packet.Reply(serverId, request.srcid(), PayloadHash.sha1Hex(request.payload()));
    }
    if (packet instanceof Packet.Registration) {
      return Packet.Error.of(
          null,
          ErrorCode.UNSUPPORTED_TYPE,
          "this is a backend server; send type \"0\" requests (type \"1\" registrations go to the proxy)");
    }
    // A decoding error, sent back as is.
    return packet;
  }

  /**
   * Sends {@code registration} to the proxy on a fresh connection and closes it, as {@code
   * server.py} does. The proxy answers nothing; the stage completes once the connection is closed,
   * and fails if the proxy cannot be reached or the exchange takes longer than {@code timeout}.
   */
  public static CompletionStage<Done> register(
      ActorSystem<?> system,
      String proxyHost,
      int proxyPort,
      Packet.Registration registration,
      Duration timeout) {
    return Source.single(PacketCodec.encode(registration))
        .via(
            Tcp.get(system)
                .outgoingConnection(
                    new InetSocketAddress(proxyHost, proxyPort),
                    Optional.empty(),
                    List.of(),
                    // No half-close: once the registration is written the connection is closed
                    // (the proxy would otherwise keep its side open and the stream never end).
                    false,
                    Optional.of(timeout),
                    Optional.empty()))
        .completionTimeout(timeout)
        .runWith(Sink.ignore(), system);
  }

  /**
   * {@link #register(ActorSystem, String, int, Packet.Registration, Duration)} with the system's
   * configured {@code revproxy.server.registration-timeout}.
   */
  public static CompletionStage<Done> register(
      ActorSystem<?> system, String proxyHost, int proxyPort, Packet.Registration registration) {
    Duration timeout =
        system.settings().config().getDuration("revproxy.server.registration-timeout");
    return register(system, proxyHost, proxyPort, registration, timeout);
  }

  /**
   * Registers with the proxy of {@code settings}, trying up to {@code registration-attempts} times
   * with exponential backoff between the configured bounds. Fails with a {@link
   * RegistrationFailedException} naming the proxy and the last cause.
   */
  public static CompletionStage<Done> registerWithRetries(
      ActorSystem<?> system, Packet.Registration registration, Settings settings) {
    return attempt(system, registration, settings, 1, settings.registrationMinBackoff());
  }

  private static CompletionStage<Done> attempt(
      ActorSystem<?> system,
      Packet.Registration registration,
      Settings settings,
      int number,
      Duration backoff) {
    String proxy = settings.proxyHost() + ":" + settings.proxyPort();
    return register(
            system,
            settings.proxyHost(),
            settings.proxyPort(),
            registration,
            settings.registrationTimeout())
        .handleAsync(
            (done, failure) -> {
              if (failure == null) {
                return CompletableFuture.completedStage(done);
              }
              String reason = rootMessage(failure);
              if (number >= settings.registrationAttempts()) {
                return CompletableFuture.<Done>failedStage(
                    new RegistrationFailedException(proxy, number, reason, failure));
              }
              log.warn(
                  "Could not register with the proxy at {} (attempt {} of {}): {}; retrying in {} ms",
                  proxy,
                  number,
                  settings.registrationAttempts(),
                  reason,
                  backoff.toMillis());
              Duration next = backoff.multipliedBy(2);
              Duration capped =
                  next.compareTo(settings.registrationMaxBackoff()) <= 0
                      ? next
                      : settings.registrationMaxBackoff();
              return Patterns.after(
                  backoff,
                  system,
                  () -> attempt(system, registration, settings, number + 1, capped));
            },
            SAME_THREAD)
        .thenComposeAsync(stage -> stage, SAME_THREAD);
  }

  /** The proxy could not be reached for registration, after every attempt. */
  public static final class RegistrationFailedException extends RuntimeException {
    RegistrationFailedException(String proxy, int attempts, String reason, Throwable cause) {
      super(
          "could not register with the proxy at "
              + proxy
              + " after "
              + attempts
              + (attempts == 1 ? " attempt" : " attempts")
              + ": "
              + reason,
          cause);
    }
  }

}
