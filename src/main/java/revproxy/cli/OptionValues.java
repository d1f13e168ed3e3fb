package revproxy.cli;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Map;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;
import revproxy.protocol.Packet;
import revproxy.util.Ports;

/**
 * Converters for option values. Each refuses a bad value in one wording, {@code "<value>" is not
 * <what> (<hint>)}; {@link revproxy.Main#commandLine()} puts the option's name in front.
 */
public final class OptionValues {

  private OptionValues() {}

  static TypeConversionException not(String value, String what) {
    return new TypeConversionException("\"" + value + "\" is not " + what);
  }

  static int port(String value, int min) {
    int port = value.matches("[0-9]{1,5}") ? Integer.parseInt(value) : -1;
    if (port < min || port > Ports.MAX) {
      throw new TypeConversionException(Ports.notAPort(value, min));
    }
    return port;
  }

  /** A port to listen on: 0 means any free port. */
  static final class ListenPort implements ITypeConverter<Integer> {
    @Override
    public Integer convert(String value) {
      return port(value, 0);
    }
  }

  /** A port to connect to. */
  static final class Port implements ITypeConverter<Integer> {
    @Override
    public Integer convert(String value) {
      return port(value, 1);
    }
  }

  /** An IP address, or a name that resolves here. */
  static final class Host implements ITypeConverter<String> {
    @Override
    public String convert(String value) {
      return host(value);
    }
  }

  static String host(String value) {
    try {
      if (!value.isBlank()) {
        InetAddress.getByName(value);
        return value;
      }
    } catch (UnknownHostException | SecurityException e) {
      // refused below
    }
    throw not(value, "a host (an IP address or a name that resolves)");
  }

  /**
   * A duration as the configuration takes it ({@code 500ms}, {@code 30s}, {@code 2m}), kept as
   * written.
   */
  static final class Duration implements ITypeConverter<String> {
    @Override
    public String convert(String value) {
      try {
        if (!ConfigFactory.parseMap(Map.of("d", value)).getDuration("d").isNegative()) {
          return value;
        }
      } catch (ConfigException e) {
        // refused below
      }
      throw not(value, "a duration (e.g. 500ms, 30s)");
    }
  }

  /** A worker, server or policy id. */
  static final class Id implements ITypeConverter<String> {
    @Override
    public String convert(String value) {
      if (!Packet.NAME.matcher(value).matches()) {
        throw not(value, "an id (1-64 characters of A-Z a-z 0-9 . _ -)");
      }
      return value;
    }
  }

  /** Every other whole number: counts, sizes. */
  public static final class WholeNumber implements ITypeConverter<Integer> {
    @Override
    public Integer convert(String value) {
      try {
        return Integer.valueOf(value);
      } catch (NumberFormatException e) {
        throw not(value, "a whole number");
      }
    }
  }

  public static final class LongWholeNumber implements ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
      try {
        return Long.valueOf(value);
      } catch (NumberFormatException e) {
        throw not(value, "a whole number");
      }
    }
  }

  public static final class Number implements ITypeConverter<Double> {
    @Override
    public Double convert(String value) {
      try {
        return Double.valueOf(value);
      } catch (NumberFormatException e) {
        throw not(value, "a number");
      }
    }
  }
}
