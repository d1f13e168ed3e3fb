package revproxy.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * What one run measured: the outcome of every request, the latency of the verified ones in
 * microseconds, and the problems seen first. {@link #passed()} is the run's verdict.
 *
 * @param measured requests sent after the warmup
 * @param warmup requests sent during the warmup: not in the rates or latencies, but checked too
 * @param latencyMicros latency of each verified measured request, from its scheduled send time
 * @param windowSeconds from the end of the warmup to the last measured reply
 * @param connectionErrors connects that failed and connections that broke or failed
 * @param failovers with --proxy: connections that moved to the next proxy after failing, breaking
 *     or timing out
 * @param resent with --proxy: requests written again on the next proxy after a failover
 * @param malformed reply bytes that answer no request: garbage, unrequested or oversized objects
 * @param generatorCpuSeconds CPU the load threads used while measuring
 * @param stalled the run gave up early because nothing came back
 * @param problems the first few problems, as readable lines
 */
public record BenchResult(
    BenchSettings settings,
    Outcomes measured,
    Outcomes warmup,
    Histogram latencyMicros,
    double windowSeconds,
    long connectionErrors,
    long failovers,
    long resent,
    long malformed,
    int idleOpen,
    int idleFailed,
    int idleClosed,
    double generatorCpuSeconds,
    boolean stalled,
    List<String> problems) {

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Every request got its verified reply, and nothing else went wrong. With --proxy a connection
   * error is no failure by itself: its requests were failed over, and count as what became of them.
   */
  public boolean passed() {
    return measured.failed() == 0
        && warmup.failed() == 0
        && measured.ok() > 0
        && (!settings.byRequestCount() || measured.ok() == settings.requests())
        && (connectionErrors == 0 || settings.failover())
        && malformed == 0
        && idleFailed == 0
        && idleClosed == 0
        && idleOpen == settings.idleConnections()
        && !stalled;
  }

  /** 0 if {@link #passed()}, else 1. */
  public int exitCode() {
    return passed() ? 0 : 1;
  }

  /** Replies per second over the measured window. */
  public double requestsPerSecond() {
    return windowSeconds > 0 ? measured.replies() / windowSeconds : 0;
  }

  /** The report for a person, like wrk's. */
  public String text() {
    StringBuilder out = new StringBuilder();
    BenchSettings s = settings;
    out.append(
        String.format(
            Locale.ROOT,
            "bench %s%s  %d connections x %d in flight, %s, %s after %s warmup%n",
            s.targetNames(),
            s.tls().isPresent() ? " over TLS" : "",
            s.connections(),
            s.pipeline(),
            s.openLoop()
                ? String.format(Locale.ROOT, "open loop at %,.0f req/s", s.rate())
                : "closed loop",
            s.byRequestCount()
                ? String.format(Locale.ROOT, "%,d requests", s.requests())
                : seconds(s.duration().toMillis() / 1000.0),
            seconds(s.warmup().toMillis() / 1000.0)));
    out.append(
        String.format(
            Locale.ROOT,
            "  payload %d bytes, policies %s, %d thread%s%s%n",
            s.payloadBytes(),
            String.join(",", s.policies()),
            s.threads(),
            s.threads() == 1 ? "" : "s",
            s.idleConnections() > 0
                ? String.format(
                    Locale.ROOT,
                    ", %,d idle connections (%,d open at the end, %,d failed, %,d closed by the server)",
                    s.idleConnections(),
                    idleOpen,
                    idleFailed,
                    idleClosed)
                : ""));
    out.append(
        String.format(
            Locale.ROOT,
            "  requests   %,d in %.2fs   %,.0f req/s%n",
            measured.replies(),
            windowSeconds,
            requestsPerSecond()));
    if (latencyMicros.getTotalCount() > 0) {
      out.append(
          String.format(
              Locale.ROOT,
              "  latency    p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  mean %s%n",
              micros(latencyMicros.getValueAtPercentile(50)),
              micros(latencyMicros.getValueAtPercentile(90)),
              micros(latencyMicros.getValueAtPercentile(99)),
              micros(latencyMicros.getValueAtPercentile(99.9)),
              micros(latencyMicros.getMaxValue()),
              micros(Math.round(latencyMicros.getMean()))));
    }
    out.append(
        String.format(
            Locale.ROOT,
            "  verified   %,d ok, %,d wrong, %,d errors, %,d timeouts, %,d lost, %,d connection errors%n",
            measured.ok(),
            measured.wrong(),
            measured.errorCount(),
            measured.timeouts(),
            measured.lost(),
            connectionErrors));
    if (s.failover()) {
      out.append(
          String.format(
              Locale.ROOT,
              "  failover   %,d failovers, %,d requests sent again, over %d prox%s%n",
              failovers,
              resent,
              s.proxies().size(),
              s.proxies().size() == 1 ? "y" : "ies"));
    }
    if (!measured.errors().isEmpty()) {
      out.append("  errors     ").append(measured.errors()).append(System.lineSeparator());
    }
    if (warmup.requests() > 0 || warmup.failed() > 0) {
      out.append(
          String.format(
              Locale.ROOT,
              "  warmup     %,d requests, %,d ok, %,d failed%n",
              warmup.requests(),
              warmup.ok(),
              warmup.failed()));
    }
    if (malformed > 0) {
      out.append(
          String.format(
              Locale.ROOT, "  malformed  %,d replies that answer no request%n", malformed));
    }
    if (measured.requests() > 0) {
      out.append(
          String.format(
              Locale.ROOT,
              "  generator  %.2f us CPU per request%n",
              generatorCpuSeconds * 1e6 / measured.requests()));
    }
    for (String problem : problems) {
      out.append("  problem    ").append(problem).append(System.lineSeparator());
    }
    out.append(passed() ? "RESULT: OK" : "RESULT: FAILED").append(System.lineSeparator());
    return out.toString();
  }

  /** One JSON object with every number, for scripts. */
  public String json() {
    Map<String, Object> root = new LinkedHashMap<>();
    BenchSettings s = settings;
    root.put("target", s.targetNames());
    root.put("proxies", s.failover() ? List.of(s.targetNames().split(",")) : List.of());
    root.put("tls", s.tls().isPresent());
    root.put("connections", s.connections());
    root.put("pipeline", s.pipeline());
    root.put("mode", s.openLoop() ? "open" : "closed");
    root.put("rate", s.rate());
    root.put("payload_bytes", s.payloadBytes());
    root.put("policies", s.policies());
    root.put("threads", s.threads());
    root.put("warmup_s", s.warmup().toMillis() / 1000.0);
    root.put("duration_s", s.byRequestCount() ? null : s.duration().toMillis() / 1000.0);
    root.put("requests_asked", s.byRequestCount() ? s.requests() : null);
    root.put("window_s", round(windowSeconds, 3));
    root.put("requests", measured.requests());
    root.put("replies", measured.replies());
    root.put("req_per_s", round(requestsPerSecond(), 1));
    root.put("ok", measured.ok());
    root.put("wrong", measured.wrong());
    root.put("error_count", measured.errorCount());
    root.put("errors", measured.errors());
    root.put("timeouts", measured.timeouts());
    root.put("lost", measured.lost());
    root.put("connection_errors", connectionErrors);
    root.put("failovers", failovers);
    root.put("resent", resent);
    root.put("malformed", malformed);
    Map<String, Object> latency = new LinkedHashMap<>();
    latency.put("count", latencyMicros.getTotalCount());
    latency.put("p50", latencyMicros.getValueAtPercentile(50));
    latency.put("p90", latencyMicros.getValueAtPercentile(90));
    latency.put("p99", latencyMicros.getValueAtPercentile(99));
    latency.put("p99_9", latencyMicros.getValueAtPercentile(99.9));
    latency.put("max", latencyMicros.getMaxValue());
    latency.put("mean", round(latencyMicros.getMean(), 1));
    root.put("latency_us", latency);
    Map<String, Object> warm = new LinkedHashMap<>();
    warm.put("requests", warmup.requests());
    warm.put("ok", warmup.ok());
    warm.put("failed", warmup.failed());
    root.put("warmup", warm);
    root.put("total_requests", measured.requests() + warmup.requests());
    Map<String, Object> idle = new LinkedHashMap<>();
    idle.put("asked", s.idleConnections());
    idle.put("open", idleOpen);
    idle.put("failed", idleFailed);
    idle.put("closed", idleClosed);
    root.put("idle_connections", idle);
    root.put("generator_cpu_s", round(generatorCpuSeconds, 3));
    root.put(
        "generator_cpu_us_per_request",
        measured.requests() > 0 ? round(generatorCpuSeconds * 1e6 / measured.requests(), 3) : null);
    root.put("stalled", stalled);
    root.put("problems", problems);
    root.put("passed", passed());
    try {
      return JSON.writeValueAsString(root);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write the result as JSON", e);
    }
  }

  private static String micros(long us) {
    if (us < 1000) {
      return us + "us";
    }
    if (us < 1_000_000) {
      return String.format(Locale.ROOT, "%.2fms", us / 1000.0);
    }
    return String.format(Locale.ROOT, "%.2fs", us / 1e6);
  }

  private static String seconds(double s) {
    return String.format(Locale.ROOT, s == Math.rint(s) ? "%.0fs" : "%.1fs", s);
  }

  private static double round(double value, int decimals) {
    double scale = Math.pow(10, decimals);
    return Math.round(value * scale) / scale;
  }
}
