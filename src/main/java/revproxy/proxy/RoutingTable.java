package revproxy.proxy;

import akka.actor.Address;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * What the router routes to, as the management endpoint's {@code /routing} shows it (like Envoy's
 * {@code /clusters}): every tracked policy with its reachable routees, in the router's order.
 */
public record RoutingTable(List<PolicyEntry> policies) {

  /** One policy and its routees. */
  public record PolicyEntry(String policy, List<RouteeEntry> routees) {}

  /**
   * One routee: its worker id (null until a reply named it), the node it runs on, the actor's path,
   * {@code serving} or {@code ejected}, and its attempts in flight.
   */
  public record RouteeEntry(String id, String node, String path, String state, int inFlight) {}

  /** {@code self}: this node's address, for routees in this JVM (their paths carry none). */
  static RoutingTable of(Collection<Policy> policies, long now, Address self) {
    List<PolicyEntry> entries = new ArrayList<>();
    for (Policy policy : policies) {
      List<RouteeEntry> routees = new ArrayList<>();
      for (PolicyRoutees.RouteeState state : policy.routees.states(now)) {
        routees.add(
            new RouteeEntry(
                state.workerId(),
                (state.routee().path().address().hasLocalScope()
                        ? self
                        : state.routee().path().address())
                    .toString(),
                state.routee().path().toStringWithoutAddress(),
                state.state(),
                state.inFlight()));
      }
      entries.add(new PolicyEntry(policy.id, routees));
    }
    entries.sort(Comparator.comparing(PolicyEntry::policy));
    return new RoutingTable(entries);
  }
}
