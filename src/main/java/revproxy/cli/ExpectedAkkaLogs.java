package revproxy.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.filter.Filter;
import ch.qos.logback.core.spi.FilterReply;
import java.util.List;

/**
 * Drops two kinds of Akka log lines that are no news to an operator; Akka has no setting for
 * either. Everything else those loggers write still comes through.
 *
 * <ul>
 *   <li>A port Akka could not bind, an ERROR with a stack trace ({@code akka.io.TcpListener}): the
 *       command says it in one line ({@code error: port 2100 on 127.0.0.1 is already in use (client
 *       port)}) and exits 1.
 *   <li>An Artery connection to a peer that this node stopped itself: aborted on leaving the
 *       cluster (a clean shutdown) or when Artery stops an idle outbound stream, or stopped because
 *       the peer, removed from the cluster, was quarantined (which Akka logs on its own). Artery
 *       logs the first failure of an outbound stream at WARN, whatever the cause ({@code outbound
 *       connection to [...] Upstream failed, cause: StreamTcpException: The connection has been
 *       aborted}). A real failure to reach a peer has another cause (refused, reset, timed out) and
 *       is still logged, and so is an unreachable node, by the cluster.
 * </ul>
 */
public final class ExpectedAkkaLogs extends Filter<ILoggingEvent> {

  /** How an outbound stream ends when this node stopped it: aborted, or its peer quarantined. */
  private static final List<String> OWN_STOPS =
      List.of(
          "Upstream failed, cause: StreamTcpException: The connection has been aborted",
          "Upstream failed, cause: Association$OutboundStreamStopQuarantinedSignal$: ");

  @Override
  public FilterReply decide(ILoggingEvent event) {
    String message = event.getFormattedMessage();
    boolean bindFailure =
        event.getLoggerName().equals("akka.io.TcpListener") && message.startsWith("Bind failed");
    boolean ownAbort =
        event.getLoggerName().equals("akka.stream.Materializer")
            && event.getLevel() == Level.WARN
            && message.startsWith("[outbound connection to [")
            && OWN_STOPS.stream().anyMatch(message::endsWith);
    return bindFailure || ownAbort ? FilterReply.DENY : FilterReply.NEUTRAL;
  }
}
