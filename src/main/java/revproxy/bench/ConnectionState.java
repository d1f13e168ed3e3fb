package revproxy.bench;

/** Where a load or idle connection is in its life; a closed one may be connected again. */
enum ConnectionState {
  /** Not connected yet, or waiting to reconnect. */
  WAITING,
  /** TCP connect (and with --tls the handshake) in progress. */
  CONNECTING,
  OPEN,
  /** Closed, or queued to connect again. */
  CLOSED
}
