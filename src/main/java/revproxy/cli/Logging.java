package revproxy.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.joran.spi.JoranException;
import java.util.Locale;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.ITypeConverter;

/** How commands log: the format of the lines, and the levels of commands that print a report. */
public final class Logging {

  /** The format of log lines on stderr: one line of text, or one JSON object, per event. */
  public enum Format {
    TEXT,
    JSON
  }

  private Logging() {}

  /**
   * Logs in {@code format} from now on. JSON loads the bundled logback-json.xml; an operator's own
   * file ({@code -Dlogback.configurationFile}) is left alone.
   */
  public static void use(Format format) {
    if (format == Format.JSON && System.getProperty("logback.configurationFile") == null) {
      LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
      JoranConfigurator configurator = new JoranConfigurator();
      configurator.setContext(context);
      context.reset();
      try {
        configurator.doConfigure(Logging.class.getResource("/logback-json.xml"));
      } catch (JoranException e) {
        throw new IllegalStateException("cannot load logback-json.xml", e);
      }
    }
  }

  /** Only warnings and errors on stderr; typed actors log through SLF4J, past akka.loglevel. */
  static void warningsOnly() {
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).setLevel(Level.WARN);
  }

  public static final class FormatConverter implements ITypeConverter<Format> {
    @Override
    public Format convert(String value) {
      try {
        return Format.valueOf(value.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw OptionValues.not(value, "a log format (text, json)");
      }
    }
  }
}
