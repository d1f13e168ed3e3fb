package revproxy.server;

import akka.NotUsed;
import akka.actor.typed.ActorSystem;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Tcp;
import akka.util.ByteString;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import revproxy.protocol.Decoded;
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

  /** The answer to one decoded frame. Hashing takes about 100 ns: done right here, in the stage. */
  static Packet answer(String serverId, Decoded decoded) {
    if (decoded instanceof Decoded.Refused refused) {
      return refused.toError();
    }
    // decodeRequest accepts requests and registrations, nothing else.
    Packet packet = ((Decoded.Ok) decoded).packet();
    if (packet instanceof Packet.Registration) {
      return Packet.Error.of(
          null,
          ErrorCode.UNSUPPORTED_TYPE,
          "this is a backend server; send type \"0\" requests (type \"1\" registrations go to the proxy)");
    }
    Packet.Request request = (Packet.Request) packet;
    return new Packet.Reply(serverId, request.srcid(), PayloadHash.sha1Hex(request.payload()));
  }
}
