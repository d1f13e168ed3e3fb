package revproxy.worker;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import revproxy.protocol.Packet;

/**
 * One worker to run: its id (reported in replies) and the policy it serves, written "ID:POLICY".
 */
public record WorkerSpec(String id, String policyId) {

  public WorkerSpec {
    if (!Packet.NAME.matcher(id).matches() || !Packet.NAME.matcher(policyId).matches()) {
      throw new IllegalArgumentException(
          "\""
              + id
              + ":"
              + policyId
              + "\" is not ID:POLICY (each 1-64 characters of A-Z a-z 0-9 . _ -)");
    }
  }

  /** Refuses a list that names one worker id twice: ids are how replies say who served. */
  public static List<WorkerSpec> requireDistinctIds(List<WorkerSpec> workers) {
    Set<String> ids = new HashSet<>();
    for (WorkerSpec worker : workers) {
      if (!ids.add(worker.id())) {
        throw new IllegalArgumentException("worker id " + worker.id() + " is given twice");
      }
    }
    return workers;
  }

  /** Parses "100:111" (worker 100 serving policy 111). */
  public static WorkerSpec parse(String text) {
    int colon = text.indexOf(':');
    if (colon < 0) {
      throw new IllegalArgumentException(
          "\"" + text + "\" is not ID:POLICY (e.g. 100:111, worker 100 serving policy 111)");
    }
    return new WorkerSpec(text.substring(0, colon), text.substring(colon + 1));
  }

  @Override
  public String toString() {
    return id + ":" + policyId;
  }
}
