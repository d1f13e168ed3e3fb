package revproxy.ops;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.Extension;
import akka.actor.typed.ExtensionId;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * The node's metrics: one Prometheus registry per actor system (several systems share a JVM in the
 * tests and the demo), with the JVM's metrics, and the proxy's and the workers' metrics once the
 * node runs them. Served as Prometheus text on the management endpoint's {@code /metrics}.
 */
public final class Metrics implements Extension {

  private static final Id ID = new Id();

  /** The extension's id: one {@link Metrics} per actor system. */
  private static final class Id extends ExtensionId<Metrics> {
    @Override
    public Metrics createExtension(ActorSystem<?> system) {
      return new Metrics();
    }
  }

  public static Metrics get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private ProxyMetrics proxy;
  private WorkerMetrics worker;

  private Metrics() {
    JvmMetrics.builder().register(registry);
  }

  public PrometheusRegistry registry() {
    return registry;
  }

  /** The proxy's metrics, registered on first use (proxy nodes only). */
  public synchronized ProxyMetrics proxy() {
    if (proxy == null) {
      proxy = new ProxyMetrics(registry);
    }
    return proxy;
  }

  /** The workers' metrics, registered on first use (nodes that run workers). */
  public synchronized WorkerMetrics worker() {
    if (worker == null) {
      worker = new WorkerMetrics(registry);
    }
    return worker;
  }
}
