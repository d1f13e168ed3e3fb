package revproxy.cli;

/** A "host:port" option value, checked. */
record HostPort(String host, int port) {

  /** Parses {@code value} of {@code option}; a bad one is an IllegalArgumentException. */
  static HostPort parse(String option, String value) {
    int colon = value.lastIndexOf(':');
    if (colon <= 0 || colon == value.length() - 1) {
      throw new IllegalArgumentException(
          option + " needs HOST:PORT, e.g. 127.0.0.1:8558, got \"" + value + "\"");
    }
    String portText = value.substring(colon + 1);
    int port = portText.matches("[0-9]{1,5}") ? Integer.parseInt(portText) : -1;
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException(
          option + ": \"" + portText + "\" is not a port (1-65535)");
    }
    return new HostPort(value.substring(0, colon), port);
  }

  @Override
  public String toString() {
    return host + ":" + port;
  }
}
