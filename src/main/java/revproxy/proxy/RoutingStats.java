package revproxy.proxy;

import java.time.Duration;
import org.slf4j.Logger;

/** What the router did since its last stats line. */
final class RoutingStats {
  long requests;
  long retries;
  long ejections;
  long timeouts;
  long unavailable;
  long noWorker;
  long forgotten;

  /** Logs a line if anything happened, then starts counting afresh. */
  void logAndReset(Logger log, Duration interval, int policiesTracked) {
    if (requests > 0 || ejections > 0 || forgotten > 0) {
      log.info(
          "Routing, last {} s: {} requests, {} retries, {} ejections, {} timed out, {} unavailable,"
              + " {} without worker; {} policies tracked, {} forgotten",
          interval.toSeconds(),
          requests,
          retries,
          ejections,
          timeouts,
          unavailable,
          noWorker,
          policiesTracked,
          forgotten);
    }
    requests = retries = ejections = timeouts = unavailable = noWorker = forgotten = 0;
  }
}
