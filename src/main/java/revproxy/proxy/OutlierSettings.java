package revproxy.proxy;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * When a routee is an outlier, read once from {@code revproxy.proxy.outlier} (see reference.conf):
 * like Envoy's outlier detection, for silent routees, slow ones, and ones whose attempts keep
 * timing out.
 *
 * @param overdueAfter a routee whose oldest unanswered attempt is older than this, and than 10
 *     times the policy's median latency, is ejected, and its attempts in flight are retried now
 * @param firstReplyAfter the same for a routee that never answered yet, whose first reply may be
 *     slow (a worker on a node just started); applies only when shorter than the attempt timeout
 * @param maxUnanswered a routee that has this many attempts without an answer since its last one,
 *     the oldest older than {@code holdAfter} (and than 3 times the policy's median latency), gets
 *     no new attempt until it answers: requests do not queue up behind a backend that stopped (one
 *     that never answered yet gets one attempt at a time)
 * @param ejectAfterTimeouts attempts timed out in a row that eject a routee
 * @param ejectionTime the first ejection's length (the second's, after a warm-up ejection); each
 *     further one in a row doubles it
 * @param maxEjectionTime the longest ejection
 * @param maxEjectedPercent at most this share of a policy's routees is ejected at once (one may
 *     always be, but never a policy's only routee): the others must not drown under the load
 * @param warmUp how long after its first answer to this proxy a routee is warming up (a node just
 *     started, whose JIT compiles its request path, may stall past {@code overdueAfter} in its
 *     first seconds); zero: never
 * @param warmUpEjectionTime the length of the first ejection of a run for a routee that is warming
 *     up, instead of {@code ejectionTime}; if its probe fails, the run goes on as without it
 *     ({@code ejectionTime}, doubled per further ejection in a row); at most {@code ejectionTime}
 */
public record OutlierSettings(
    Duration overdueAfter,
    Duration firstReplyAfter,
    int maxUnanswered,
    Duration holdAfter,
    int ejectAfterTimeouts,
    Duration ejectionTime,
    Duration maxEjectionTime,
    int maxEjectedPercent,
    Duration warmUp,
    Duration warmUpEjectionTime) {

  public OutlierSettings {
    if (maxUnanswered < 1 || ejectAfterTimeouts < 1) {
      throw new IllegalArgumentException(
          "revproxy.proxy.outlier.max-unanswered and eject-after-timeouts must be at least 1");
    }
    if (maxEjectedPercent < 0 || maxEjectedPercent > 100) {
      throw new IllegalArgumentException(
          "revproxy.proxy.outlier.max-ejected-percent must be 0-100");
    }
    if (ejectionTime.isNegative() || ejectionTime.isZero()) {
      throw new IllegalArgumentException("revproxy.proxy.outlier.ejection-time must be positive");
    }
    if (maxEjectionTime.compareTo(ejectionTime) < 0) {
      throw new IllegalArgumentException(
          "revproxy.proxy.outlier.max-ejection-time must not be less than ejection-time");
    }
    if (warmUp.isNegative()) {
      throw new IllegalArgumentException("revproxy.proxy.outlier.warm-up must not be negative");
    }
    if (warmUpEjectionTime.isNegative() || warmUpEjectionTime.isZero()) {
      throw new IllegalArgumentException(
          "revproxy.proxy.outlier.warm-up-ejection-time must be positive");
    }
    if (warmUpEjectionTime.compareTo(ejectionTime) > 0) {
      warmUpEjectionTime = ejectionTime; // never longer than an ejection without the warm-up
    }
  }

  /** Settings without a warm-up: every run of ejections starts at {@code ejectionTime}. */
  public static OutlierSettings withoutWarmUp(
      Duration overdueAfter,
      Duration firstReplyAfter,
      int maxUnanswered,
      Duration holdAfter,
      int ejectAfterTimeouts,
      Duration ejectionTime,
      Duration maxEjectionTime,
      int maxEjectedPercent) {
    return new OutlierSettings(
        overdueAfter,
        firstReplyAfter,
        maxUnanswered,
        holdAfter,
        ejectAfterTimeouts,
        ejectionTime,
        maxEjectionTime,
        maxEjectedPercent,
        Duration.ZERO,
        ejectionTime);
  }

  public static OutlierSettings fromConfig(Config proxy) {
    Config outlier = proxy.getConfig("outlier");
    return new OutlierSettings(
        outlier.getDuration("overdue-after"),
        outlier.getDuration("first-reply-after"),
        outlier.getInt("max-unanswered"),
        outlier.getDuration("hold-after"),
        outlier.getInt("eject-after-timeouts"),
        outlier.getDuration("ejection-time"),
        outlier.getDuration("max-ejection-time"),
        outlier.getInt("max-ejected-percent"),
        outlier.getDuration("warm-up"),
        outlier.getDuration("warm-up-ejection-time"));
  }
}
