package revproxy.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import org.slf4j.LoggerFactory;

/** Log levels set by commands whose stdout is a report for a person. */
final class Logging {

  private Logging() {}

  /** Only warnings and errors on stderr; typed actors log through SLF4J, past akka.loglevel. */
  static void warningsOnly() {
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).setLevel(Level.WARN);
  }
}
