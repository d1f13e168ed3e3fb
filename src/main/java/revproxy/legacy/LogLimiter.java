package revproxy.legacy;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Decides which of many similar log lines to write: at most one per key (e.g. a source address) per
 * interval, and at most {@code maxPerInterval} in all, so that nothing a client does can flood the
 * log. The lines it holds back are counted, for a summary. Not thread-safe: one per actor.
 */
final class LogLimiter {

  private final long intervalNanos;
  private final int maxPerInterval;
  private final Map<String, Long> lastLogged;
  private boolean started;
  private long windowStart;
  private int inWindow;
  private long suppressed;

  LogLimiter(Duration interval, int maxPerInterval, int maxKeys) {
    this.intervalNanos = interval.toNanos();
    this.maxPerInterval = maxPerInterval;
    // Oldest first: past maxKeys the oldest key is forgotten, so memory stays bounded.
    this.lastLogged =
        new LinkedHashMap<>(16, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
            return size() > maxKeys;
          }
        };
  }

  /** Whether a line about {@code key} may be written now; if not, it is counted as suppressed. */
  boolean allow(String key, long nowNanos) {
    if (!started || nowNanos - windowStart >= intervalNanos) {
      started = true;
      windowStart = nowNanos;
      inWindow = 0;
    }
    Long last = lastLogged.get(key);
    if ((last != null && nowNanos - last < intervalNanos) || inWindow >= maxPerInterval) {
      suppressed++;
      return false;
    }
    lastLogged.put(key, nowNanos);
    inWindow++;
    return true;
  }

  /** Lines held back since the last call. */
  long takeSuppressed() {
    long count = suppressed;
    suppressed = 0;
    return count;
  }
}
