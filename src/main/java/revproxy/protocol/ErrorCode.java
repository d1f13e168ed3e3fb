package revproxy.protocol;

/**
 * The stable {@code code} values of type "3" error packets. Clients may switch on {@link #wire()}.
 */
public enum ErrorCode {
  /**
   * The bytes of an object are not valid JSON (syntax, invalid UTF-8, duplicate keys, too deep).
   */
  MALFORMED_JSON("malformed_json"),
  /** Bytes outside any JSON object that are not whitespace. */
  NOT_JSON("not_json"),
  /** A required field is absent. */
  MISSING_FIELD("missing_field"),
  /** A field has the wrong JSON type or an unusable value. */
  INVALID_FIELD("invalid_field"),
  /** The {@code type} is not one this endpoint accepts. */
  UNSUPPORTED_TYPE("unsupported_type"),
  /** {@code payloadsize} is present and differs from the payload's UTF-8 length. */
  PAYLOADSIZE_MISMATCH("payloadsize_mismatch"),
  /** No worker currently serves the requested policy. */
  NO_WORKER_FOR_POLICY("no_worker_for_policy"),
  /** The proxy tracks as many policies as it is configured to; this one cannot be added. */
  TOO_MANY_POLICIES("too_many_policies"),
  /** No worker answered within the request timeout. */
  TIMEOUT("timeout"),
  /** Every worker tried said it could not serve the request (e.g. its backend server is down). */
  WORKER_UNAVAILABLE("worker_unavailable"),
  /** One object exceeded the maximum packet size; the connection is closed after this error. */
  PACKET_TOO_LARGE("packet_too_large"),
  /** An object was not completed within the packet timeout; the connection is closed after it. */
  PACKET_TIMEOUT("packet_timeout"),
  /** The proxy serves as many connections as it may; this one is closed after this error. */
  TOO_MANY_CONNECTIONS("too_many_connections"),
  /**
   * A type "1" registration was not accepted: from an address outside {@code allow-from}, without
   * the right token, naming one of the proxy's own ports, or past a bound; nothing changed.
   */
  REGISTRATION_REFUSED("registration_refused"),
  /** A type "1" registration names the id and policy of another server that is still reachable. */
  REGISTRATION_CONFLICT("registration_conflict");

  private final String wire;

  ErrorCode(String wire) {
    this.wire = wire;
  }

  public String wire() {
    return wire;
  }
}
