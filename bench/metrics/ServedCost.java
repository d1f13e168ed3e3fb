package revproxy.ops;

import io.prometheus.metrics.model.registry.PrometheusRegistry;

/** ns per ProxyMetrics.PolicyMetrics.served(): what the per-request recording costs. */
public class ServedCost {
  public static void main(String[] args) {
    ProxyMetrics metrics = new ProxyMetrics(new PrometheusRegistry());
    ProxyMetrics.PolicyMetrics policy = metrics.forPolicy("111");
    long n = 20_000_000L;
    for (int round = 0; round < 5; round++) {
      long start = System.nanoTime();
      for (long i = 0; i < n; i++) {
        policy.served(250_000 + (i & 0xffff));
      }
      long took = System.nanoTime() - start;
      System.out.printf("round %d: %.1f ns per served()%n", round, (double) took / n);
    }
  }
}
