package revproxy.cli;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** A "host:port" option value: a host as {@link OptionValues.Host} takes it and a port 1-65535. */
record HostPort(String host, int port) {

  static final class Converter implements ITypeConverter<HostPort> {
    @Override
    public HostPort convert(String value) {
      int colon = value.lastIndexOf(':');
      try {
        if (colon > 0) {
          return new HostPort(
              OptionValues.host(value.substring(0, colon)),
              OptionValues.port(value.substring(colon + 1), 1));
        }
      } catch (TypeConversionException e) {
        // refused below, for the whole value
      }
      throw OptionValues.not(value, "HOST:PORT (a host, a colon, a port 1-65535)");
    }
  }

  @Override
  public String toString() {
    return host + ":" + port;
  }
}
