package revproxy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * What one logger (and those below it) writes at INFO and above while it is open, whatever the test
 * configuration's levels; {@link #close()} puts the logger back as it was.
 */
public final class LogCapture implements AutoCloseable {

  private final Logger logger;
  private final Level levelBefore;
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  public LogCapture(String loggerName) {
    logger = (Logger) LoggerFactory.getLogger(loggerName);
    levelBefore = logger.getLevel();
    appender.setContext(logger.getLoggerContext());
    appender.start();
    logger.addAppender(appender);
    logger.setLevel(Level.INFO);
  }

  /** "LEVEL message" of each event so far, in order. */
  public List<String> lines() {
    synchronized (appender.list) {
      return appender.list.stream()
          .map(event -> event.getLevel() + " " + event.getFormattedMessage())
          .toList();
    }
  }

  @Override
  public void close() {
    logger.detachAppender(appender);
    logger.setLevel(levelBefore);
    appender.stop();
  }
}
