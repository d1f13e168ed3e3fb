package revproxy.util;

import com.typesafe.config.Config;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * TCP ports, and the one way a bad one is reported, on the command line or in the configuration.
 */
public final class Ports {

  public static final int MAX = 65535;

  private Ports() {}

  /** {@code "70000" is not a port (0-65535)}. */
  public static String notAPort(Object value, int min) {
    return "\"" + value + "\" is not a port (" + min + "-" + MAX + ")";
  }

  /**
   * The port at {@code path}; 0 (any free port) only when {@code min} is 0.
   *
   * @throws IllegalArgumentException if it is out of range
   */
  public static int fromConfig(Config config, String path, int min) {
    int port = config.getInt(path);
    if (port < min || port > MAX) {
      throw new IllegalArgumentException(path + ": " + notAPort(port, min));
    }
    return port;
  }

  /**
   * The {@code "host:port"} strings at {@code path} as unresolved addresses, in order.
   *
   * @throws IllegalArgumentException for a value that is not HOST:PORT with a port 1-65535
   */
  public static List<InetSocketAddress> hostPorts(Config config, String path) {
    List<InetSocketAddress> addresses = new ArrayList<>();
    for (String value : config.getStringList(path)) {
      int colon = value.lastIndexOf(':');
      String port = colon < 0 ? "" : value.substring(colon + 1);
      if (colon <= 0
          || !port.matches("[0-9]{1,5}")
          || Integer.parseInt(port) < 1
          || Integer.parseInt(port) > MAX) {
        throw new IllegalArgumentException(
            path + ": expected HOST:PORT, e.g. 127.0.0.1:2100, got \"" + value + "\"");
      }
      addresses.add(
          InetSocketAddress.createUnresolved(value.substring(0, colon), Integer.parseInt(port)));
    }
    return addresses;
  }
}
