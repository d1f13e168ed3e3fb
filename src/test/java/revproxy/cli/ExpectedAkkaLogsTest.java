package revproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.spi.FilterReply;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class ExpectedAkkaLogsTest {

  private static FilterReply decide(String logger, Level level, String message) {
    LoggingEvent event =
        new LoggingEvent(
            ExpectedAkkaLogsTest.class.getName(),
            (Logger) LoggerFactory.getLogger(logger),
            level,
            "{}",
            null,
            new Object[] {message});
    return new ExpectedAkkaLogs().decide(event);
  }

  @Test
  void dropsArterysWarningForAConnectionThisNodeAbortedOnLeaving() {
    assertEquals(
        FilterReply.DENY,
        decide(
            "akka.stream.Materializer",
            Level.WARN,
            "[outbound connection to [akka://akka-reverse-proxy@127.0.0.1:2551], control stream]"
                + " Upstream failed, cause: StreamTcpException: The connection has been aborted"));
  }

  @Test
  void dropsArterysWarningForAStreamStoppedBecauseItsPeerWasQuarantined() {
    assertEquals(
        FilterReply.DENY,
        decide(
            "akka.stream.Materializer",
            Level.WARN,
            "[outbound connection to [akka://akka-reverse-proxy@127.0.0.1:41669], message stream]"
                + " Upstream failed, cause: Association$OutboundStreamStopQuarantinedSignal$: "));
  }

  @Test
  void keepsArterysWarningForAPeerItCannotReach() {
    assertEquals(
        FilterReply.NEUTRAL,
        decide(
            "akka.stream.Materializer",
            Level.WARN,
            "[outbound connection to [akka://akka-reverse-proxy@127.0.0.1:2551], control stream]"
                + " Upstream failed, cause: StreamTcpException: Tcp command"
                + " [Connect(127.0.0.1:2551,None,List(),Some(5000 milliseconds),true)] failed"
                + " because of java.net.ConnectException: Connection refused"));
  }

  @Test
  void dropsAkkasBindFailureWhichTheCommandReports() {
    assertEquals(
        FilterReply.DENY,
        decide(
            "akka.io.TcpListener",
            Level.ERROR,
            "Bind failed for TCP channel on endpoint [/127.0.0.1:2100]"));
  }

  @Test
  void keepsEverythingElseTheTcpListenerSays() {
    assertEquals(
        FilterReply.NEUTRAL,
        decide("akka.io.TcpListener", Level.WARN, "Accept error: could not accept new connection"));
  }
}
