package revproxy.cli;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.filter.Filter;
import ch.qos.logback.core.spi.FilterReply;

/**
 * Drops Akka's own log line about a port it could not bind, an ERROR with a stack trace: the
 * command says it in one line ({@code error: port 2100 on 127.0.0.1 is already in use (client
 * port)}) and exits 1. Everything else {@code akka.io.TcpListener} logs (an accept that failed
 * for want of file descriptors, say) still comes through.
 */
public final class ReportedBindFailures extends Filter<ILoggingEvent> {

  @Override
  public FilterReply decide(ILoggingEvent event) {
    return event.getLoggerName().equals("akka.io.TcpListener")
            && event.getMessage().startsWith("Bind failed")
        ? FilterReply.DENY
        : FilterReply.NEUTRAL;
  }
}
