package revproxy.util;

import com.typesafe.config.Config;

/** TCP ports, and the one way a bad one is reported, on the command line or in the configuration. */
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
}
