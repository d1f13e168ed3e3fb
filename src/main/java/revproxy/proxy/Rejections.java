package revproxy.proxy;

import java.time.Duration;
import revproxy.protocol.ErrorCode;

/** The router's final answers for requests it could not serve, worded once. */
final class Rejections {

  private Rejections() {}

  static RouterActor.Rejected tooManyPolicies(int maxPolicies) {
    return new RouterActor.Rejected(
        ErrorCode.TOO_MANY_POLICIES,
        "the proxy already tracks " + maxPolicies + " policies (revproxy.proxy.max-policies)");
  }

  static RouterActor.Rejected noWorker(String policyId) {
    return new RouterActor.Rejected(
        ErrorCode.NO_WORKER_FOR_POLICY, "no worker serves policy \"" + policyId + "\"");
  }

  static RouterActor.Rejected unavailable(String policyId, int attempts, String lastReason) {
    return new RouterActor.Rejected(
        ErrorCode.WORKER_UNAVAILABLE,
        "no worker of policy \""
            + policyId
            + "\" could serve the request after "
            + attempts
            + " attempt(s); last: "
            + lastReason);
  }

  static RouterActor.Rejected timeout(String policyId, Duration requestTimeout, int attempts) {
    return new RouterActor.Rejected(
        ErrorCode.TIMEOUT,
        "no worker of policy \""
            + policyId
            + "\" answered within "
            + requestTimeout.toMillis()
            + " ms ("
            + attempts
            + " attempt(s))");
  }
}
