package revproxy.proxy;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The policies the router tracks, by policy id and by receptionist key id. */
final class PolicyTable {

  private final Map<String, Policy> byId = new HashMap<>();
  private final Map<String, Policy> byKeyId = new HashMap<>();

  Policy get(String policyId) {
    return byId.get(policyId);
  }

  Policy byKeyId(String keyId) {
    return byKeyId.get(keyId);
  }

  int size() {
    return byId.size();
  }

  Collection<Policy> all() {
    return byId.values();
  }

  void add(Policy policy) {
    byId.put(policy.id, policy);
    byKeyId.put(policy.key.id(), policy);
  }

  /** Removes and returns the policies without workers that were idle for {@code afterNanos}. */
  List<Policy> removeIdle(long now, long afterNanos) {
    List<Policy> idle = new ArrayList<>();
    for (Policy policy : byId.values()) {
      if (policy.idleWithoutWorkers(now, afterNanos)) {
        idle.add(policy);
      }
    }
    for (Policy policy : idle) {
      byId.remove(policy.id);
      byKeyId.remove(policy.key.id());
    }
    return idle;
  }
}
