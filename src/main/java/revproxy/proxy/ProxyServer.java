package revproxy.proxy;

import static revproxy.util.Completions.SAME_THREAD;

import akka.Done;
import akka.NotUsed;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.stream.TLSClosing;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.stream.javadsl.Tcp;
import akka.util.ByteString;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import revproxy.legacy.LegacyRegistry;
import revproxy.legacy.RegistrationSettings;
import revproxy.ops.Metrics;
import revproxy.ops.ProxyMetrics;
import revproxy.protocol.ErrorCode;
import revproxy.protocol.Frame;
import revproxy.protocol.Packet;
import revproxy.protocol.PacketCodec;
import revproxy.protocol.PacketFraming;

/**
 * The client-facing TCP endpoint: an Akka Streams {@code Tcp} binding whose per-connection flow is
 * bytes -> frames -> packets -> {@link RouterActor} -> reply packets -> bytes.
 *
 * <p>Up to {@code max-in-flight-per-connection} requests of one connection are routed at once and
 * their replies written in request order, so a client may pipeline. Every request gets exactly one
 * reply: a type "2" answer or a type "3" error. Legacy servers register on the same port.
 *
 * <p>With {@code client-tls} the port speaks TLS ({@code Tcp.bindWithTls}); the flow is the same on
 * the decrypted bytes. A client that does not complete the handshake (plain TCP, no or a foreign
 * certificate) is disconnected without a log line: that is the client's problem, and one line per
 * connection would let anyone fill the log.
 */
public final class ProxyServer {

  // Connections the OS may queue before the proxy accepts them.
  private static final int BACKLOG = 1024;

  private ProxyServer() {}

  /** A bound proxy: its address, and its connections (to drain them on shutdown). */
  public record Running(Tcp.ServerBinding binding, ClientConnections connections) {
    public InetSocketAddress localAddress() {
      return binding.localAddress();
    }

    /** Stops accepting new connections; open ones go on. */
    public CompletionStage<Done> unbind() {
      return binding.unbind().handleAsync((unit, failure) -> Done.getInstance(), SAME_THREAD);
    }
  }

  /** Binds the proxy's TCP port; the stage completes when the port is bound (or fails to bind). */
  public static CompletionStage<Running> bind(
      ActorSystem<?> system,
      ActorRef<RouterActor.Command> router,
      ActorRef<LegacyRegistry.Command> legacyServers,
      ProxySettings settings,
      RegistrationSettings registration) {
    int maxRegistrations = registration.maxPerConnection();
    ClientConnections connections = new ClientConnections(settings.idleTimeout());
    ProxyMetrics metrics = Metrics.get(system).proxy();
    metrics.clientConnections(connections::connections);
    Packet.Error refusal =
        Packet.Error.of(
            null,
            ErrorCode.TOO_MANY_CONNECTIONS,
            "the proxy already serves "
                + settings.maxConnections()
                + " connections; try again later");
    Flow<ByteString, ByteString, NotUsed> refuse =
        Flow.fromSinkAndSource(Sink.ignore(), Source.single(PacketCodec.encode(refusal)));
    // A backstop for clients that stop reading, so their connection cannot drain.
    Optional<Duration> stalledTimeout = Optional.of(settings.idleTimeout().multipliedBy(2));
    Source<Tcp.IncomingConnection, CompletionStage<Tcp.ServerBinding>> accepted =
        settings.clientTls().isEmpty()
            ? Tcp.get(system)
                .bind(settings.host(), settings.port(), BACKLOG, List.of(), false, stalledTimeout)
            : Tcp.get(system)
                .bindWithTls(
                    settings.host(),
                    settings.port(),
                    () -> settings.clientTls().get().serverEngine(settings.requireClientAuth()),
                    BACKLOG,
                    List.of(),
                    stalledTimeout,
                    session -> Optional.empty(),
                    // Our side closes the session when its replies are done (idle, drain, refusal),
                    // as a plain connection does; a failed handshake just closes the socket.
                    TLSClosing.eagerClose());
    return accepted
        .to(
            Sink.foreach(
                connection -> {
                  AccessLog.Connection access =
                      settings.accessLog()
                          ? new AccessLog.Connection(connection.remoteAddress())
                          : null;
                  if (!connections.tryAdmit(settings.maxConnections())) {
                    metrics.connectionRefused();
                    if (access != null) {
                      access.replied(refusal);
                    }
                    connection.handleWith(access != null ? access.around(refuse) : refuse, system);
                    return;
                  }
                  try {
                    Flow<ByteString, ByteString, NotUsed> served =
                        connections
                            .flow(access != null ? access::stopped : why -> {})
                            .via(
                                connectionFlow(
                                    system,
                                    router,
                                    legacyServers,
                                    settings,
                                    maxRegistrations,
                                    metrics,
                                    access,
                                    connection.remoteAddress(),
                                    connection.localAddress().getPort()));
                    connection.handleWith(access != null ? access.around(served) : served, system);
                  } catch (RuntimeException notStarted) {
                    // e.g. the system is shutting down: the connection was never served
                    connections.release();
                  }
                }))
        .run(system)
        .handleAsync(
            (binding, failure) -> {
              if (failure != null) {
                throw new CompletionException(failure);
              }
              return new Running(binding, connections);
            },
            SAME_THREAD);
  }

  /**
   * What one client connection runs: frames, then the {@link RequestStage} (requests to the router,
   * registrations from {@code peer} to {@code legacyServers}, answers in request order), then
   * bytes. As in the original, an accepted registration gets no reply, and a refused one gets a
   * type "3" error. At most {@code max-per-connection} registrations are looked at per connection.
   * {@code access} (null when the access log is off) counts the packets in and out.
   */
  static Flow<ByteString, ByteString, NotUsed> connectionFlow(
      ActorSystem<?> system,
      ActorRef<RouterActor.Command> router,
      ActorRef<LegacyRegistry.Command> legacyServers,
      ProxySettings settings,
      int maxRegistrations,
      ProxyMetrics metrics,
      AccessLog.Connection access,
      InetSocketAddress peer,
      int clientPort) {
    Flow<ByteString, Frame, NotUsed> frames =
        PacketFraming.flow(settings.maxPacketBytes(), settings.packetTimeout());
    if (access != null) {
      frames =
          frames.map(
              frame -> {
                access.received();
                return frame;
              });
    }
    Flow<ByteString, Packet, NotUsed> replies =
        frames.via(
            new RequestStage(
                new RequestStage.Context(
                    system,
                    router,
                    legacyServers,
                    settings.maxInFlightPerConnection(),
                    // A safety net only: the RouterActor answers a timeout itself.
                    settings.askTimeout(),
                    maxRegistrations,
                    metrics,
                    peer,
                    clientPort)));
    if (access != null) {
      replies =
          replies.map(
              reply -> {
                access.replied(reply);
                return reply;
              });
    }
    return replies.map(PacketCodec::encode);
  }
}
