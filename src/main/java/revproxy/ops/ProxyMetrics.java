package revproxy.ops;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.datapoints.GaugeDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.IntSupplier;
import revproxy.protocol.ErrorCode;

/**
 * The proxy's metrics (see README "Metrics" for every name). Per-policy series are looked up once
 * per policy ({@link PolicyMetrics}), not per request, so counting costs a few increments.
 *
 * <p>The {@code policy} label is bounded: a policy that never had a worker is counted under {@value
 * #UNSERVED}, so made-up policy ids cannot make the series grow without bound, and the series of a
 * policy the router forgets are removed.
 */
public final class ProxyMetrics {

  /** The {@code policy} label of requests for policies that never had a worker. */
  public static final String UNSERVED = "(none)";

  private static final double[] LATENCY_BUCKETS = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
  };

  private final Counter requests;
  private final Histogram duration;
  private final Counter retries;
  private final Counter ejections;
  private final Gauge policyWorkers;
  private final Counter connectionsRefused;
  private final Counter protocolErrors;
  private final Gauge legacyBackends;
  private final Counter registrations;
  private final List<IntSupplier> connectionSources = new CopyOnWriteArrayList<>();
  private PolicyMetrics unserved;

  ProxyMetrics(PrometheusRegistry registry) {
    GaugeWithCallback.builder()
        .name("revproxy_client_connections")
        .help("Client connections open")
        .callback(
            callback -> {
              long open = 0;
              for (IntSupplier source : connectionSources) {
                open += source.getAsInt();
              }
              callback.call(open);
            })
        .register(registry);
    requests =
        Counter.builder()
            .name("revproxy_requests_total")
            .help("Requests answered, by policy and outcome (ok or the error code)")
            .labelNames("policy", "outcome")
            .register(registry);
    duration =
        Histogram.builder()
            .name("revproxy_request_duration_seconds")
            .help("Time from a request's arrival at the router to its answer")
            .labelNames("policy")
            .classicOnly()
            .classicUpperBounds(LATENCY_BUCKETS)
            .register(registry);
    retries =
        Counter.builder()
            .name("revproxy_retries_total")
            .help("Attempts retried on another routee")
            .labelNames("policy")
            .register(registry);
    ejections =
        Counter.builder()
            .name("revproxy_ejections_total")
            .help("Routees ejected for failing attempts in a row")
            .labelNames("policy")
            .register(registry);
    policyWorkers =
        Gauge.builder()
            .name("revproxy_policy_workers")
            .help("Reachable routees (workers and legacy servers) of a policy")
            .labelNames("policy")
            .register(registry);
    connectionsRefused =
        Counter.builder()
            .name("revproxy_client_connections_refused_total")
            .help("Client connections refused because max-connections were open")
            .register(registry);
    protocolErrors =
        Counter.builder()
            .name("revproxy_protocol_errors_total")
            .help("Type 3 errors sent for input that is not a valid request, by code")
            .labelNames("code")
            .register(registry);
    legacyBackends =
        Gauge.builder()
            .name("revproxy_legacy_backends")
            .help("Legacy TCP servers registered")
            .register(registry);
    registrations =
        Counter.builder()
            .name("revproxy_registrations_total")
            .help("Type 1 registrations, by result (accepted or the error code)")
            .labelNames("result")
            .register(registry);
  }

  /** Counts the connections of {@code open} in {@code revproxy_client_connections} (a binding). */
  public void clientConnections(IntSupplier open) {
    connectionSources.add(open);
  }

  /** The series of requests counted as {@link #UNSERVED}. */
  public synchronized PolicyMetrics unserved() {
    if (unserved == null) {
      unserved = new PolicyMetrics(UNSERVED);
    }
    return unserved;
  }

  /** The series of one policy, looked up once. */
  public PolicyMetrics forPolicy(String policyId) {
    return new PolicyMetrics(policyId);
  }

  /** Drops every series of a policy the router forgot. */
  public void forget(String policyId) {
    requests.removeIf(labels -> labels.get(0).equals(policyId));
    duration.remove(policyId);
    retries.remove(policyId);
    ejections.remove(policyId);
    policyWorkers.remove(policyId);
  }

  public void connectionRefused() {
    connectionsRefused.inc();
  }

  public void protocolError(String code) {
    protocolErrors.labelValues(code).inc();
  }

  public void legacyBackends(int count) {
    legacyBackends.set(count);
  }

  /** {@code result}: "accepted" or the refusal's error code. */
  public void registration(String result) {
    registrations.labelValues(result).inc();
  }

  /** One policy's series, each looked up once. */
  public final class PolicyMetrics {
    private final String policyId;
    private final CounterDataPoint ok;
    private final Map<ErrorCode, CounterDataPoint> rejected = new EnumMap<>(ErrorCode.class);
    private final DistributionDataPoint latency;
    private final CounterDataPoint retried;
    private final CounterDataPoint ejected;
    private final GaugeDataPoint workers;

    private PolicyMetrics(String policyId) {
      this.policyId = policyId;
      ok = requests.labelValues(policyId, "ok");
      latency = duration.labelValues(policyId);
      // Requests for policies that never had a worker are never retried or ejected.
      boolean served = !policyId.equals(UNSERVED);
      retried = served ? retries.labelValues(policyId) : null;
      ejected = served ? ejections.labelValues(policyId) : null;
      workers = served ? policyWorkers.labelValues(policyId) : null;
    }

    public String policyId() {
      return policyId;
    }

    public void served(long nanos) {
      ok.inc();
      latency.observe(nanos / 1e9);
    }

    /** Called from one actor only: the map needs no lock. */
    public void rejected(ErrorCode code, long nanos) {
      rejected.computeIfAbsent(code, c -> requests.labelValues(policyId, c.wire())).inc();
      latency.observe(nanos / 1e9);
    }

    public void retried() {
      if (retried != null) {
        retried.inc();
      }
    }

    public void ejected() {
      if (ejected != null) {
        ejected.inc();
      }
    }

    public void workers(int count) {
      if (workers != null) {
        workers.set(count);
      }
    }
  }
}
