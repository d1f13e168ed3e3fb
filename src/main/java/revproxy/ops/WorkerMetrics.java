package revproxy.ops;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/** What a node's workers do: {@code revproxy_worker_hashes_total{worker,policy}}. */
public final class WorkerMetrics {

  private final Counter hashes;

  WorkerMetrics(PrometheusRegistry registry) {
    hashes =
        Counter.builder()
            .name("revproxy_worker_hashes_total")
            .help("Payloads hashed by a worker of this node")
            .labelNames("worker", "policy")
            .register(registry);
  }

  /** The counter of one worker, to keep and increment without a lookup per request. */
  public CounterDataPoint hashes(String workerId, String policyId) {
    return hashes.labelValues(workerId, policyId);
  }
}
