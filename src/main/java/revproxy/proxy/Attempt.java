package revproxy.proxy;

import akka.actor.typed.ActorRef;
import java.util.ArrayList;
import java.util.List;
import revproxy.routee.Routee;

/**
 * One try at serving a request: the policy it is counted in, its try number (1 for the first), when
 * the request arrived and its deadline, the routees tried so far, and where and when this try went:
 * {@code target} is the routee, and {@code groupSend} says it went through the group router (whose
 * pick {@code target} is, as predicted), or is null for a direct attempt. {@code target} is null
 * before the try is sent.
 */
record Attempt(
    Policy policy,
    RouterActor.Route route,
    int number,
    long startNanos,
    long deadlineNanos,
    List<ActorRef<Routee.Command>> tried,
    ActorRef<Routee.Command> target,
    PolicyRoutees.GroupSend groupSend,
    long sentNanos) {

  /**
   * The first try of {@code route}, arrived at {@code startNanos}, due by {@code deadlineNanos}.
   */
  static Attempt first(
      Policy policy, RouterActor.Route route, long startNanos, long deadlineNanos) {
    return new Attempt(policy, route, 1, startNanos, deadlineNanos, List.of(), null, null, 0);
  }

  /**
   * This try, sent to {@code routee} at {@code now} ({@code groupSend}: through the group router).
   */
  Attempt sentTo(ActorRef<Routee.Command> routee, PolicyRoutees.GroupSend groupSend, long now) {
    List<ActorRef<Routee.Command>> triedNow = new ArrayList<>(tried.size() + 1);
    triedNow.addAll(tried);
    triedNow.add(routee);
    return new Attempt(
        policy, route, number, startNanos, deadlineNanos, triedNow, routee, groupSend, now);
  }

  /** The next try of the same request, not sent yet. */
  Attempt next() {
    return new Attempt(policy, route, number + 1, startNanos, deadlineNanos, tried, null, null, 0);
  }

  /** Gives the request its final answer, and counts it. */
  void answer(RouterActor.Reply reply) {
    policy.pending--;
    long nanos = System.nanoTime() - startNanos;
    if (reply instanceof RouterActor.Rejected rejected) {
      policy.metrics.rejected(rejected.code(), nanos);
    } else {
      policy.metrics.served(nanos);
    }
    route.replyTo().tell(reply.tag() == route.tag() ? reply : reply.withTag(route.tag()));
  }
}
