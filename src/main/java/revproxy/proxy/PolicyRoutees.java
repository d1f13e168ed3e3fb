package revproxy.proxy;

import akka.actor.Address;
import akka.actor.typed.ActorRef;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import revproxy.routee.Routee;

/**
 * The reachable routees of one policy, as the router sees them: their order, whom the group router
 * picks next, the router's own round robin for direct attempts, and each routee's health.
 *
 * <p><b>Order.</b> Routees are ordered as Akka's {@code RoundRobinLogic} orders them (by path
 * without address, then by address), and {@link #update} moves the group router's index exactly
 * as that logic does. So this class knows which routee the group router will pick for the next
 * message ({@link #viaGroupRouter}): the first attempt of a request goes through the group router,
 * as the design asks, yet its failure can be pinned on a routee. The prediction is checked against
 * every reply that names its worker ({@link #answered}); the group router and this class receive
 * listings at slightly different moments, and a mismatch puts the index right again.
 *
 * <p><b>Health.</b> Failure counts and ejections belong to a routee and survive listing updates
 * while it stays listed. A routee that fails {@code ejectAfterFailures} attempts in a row is
 * ejected for a while: no attempt goes to it, and while any routee of the policy is ejected, first
 * attempts are sent directly (the group router cannot skip one).
 *
 * <p><b>Retries</b> go to the next routee in this class's own round robin that is neither ejected
 * nor tried already, preferring one on a node no attempt of the request went to.
 *
 * <p>Plain and single-threaded: it lives inside the {@code RouterActor}.
 */
final class PolicyRoutees {

  /** The order of Akka's {@code RoundRobinLogic}: by path without address, then by address. */
  static final Comparator<ActorRef<?>> AKKA_ROUND_ROBIN_ORDER =
      Comparator.<ActorRef<?>, String>comparing(ref -> ref.path().toStringWithoutAddress())
          .thenComparing(ref -> ref.path().address(), Address.addressOrdering());

  /** What this class knows of one routee. */
  private static final class Health {
    /** The worker id its replies carry, once a reply to a direct attempt told it. */
    String workerId;
    int failuresInARow;
    long ejectedUntilNanos;
    boolean ejected;
    /** Attempts sent to it and not ended yet. */
    int inFlight;
  }

  /** One routee as {@code /routing} shows it. */
  record RouteeState(ActorRef<Routee.Command> routee, String workerId, boolean ejected, int inFlight) {}

  /** Routees that left the listing whose health is kept, in case they come back. */
  static final int MAX_DEPARTED = 64;

  private final int ejectAfterFailures;
  private final long ejectionNanos;
  private List<ActorRef<Routee.Command>> routees = List.of();
  private final Map<ActorRef<Routee.Command>, Health> health = new HashMap<>();
  /**
   * The health of routees that left the listing, oldest first. A routee that drops out and comes
   * back (a legacy backend that loses its connection after each unanswered request) must not
   * start with a clean record each time, or it would never be ejected.
   */
  private final Map<ActorRef<Routee.Command>, Health> departed =
      new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<ActorRef<Routee.Command>, Health> eldest) {
          return size() > MAX_DEPARTED;
        }
      };
  /** Mirror of the group router's {@code nextIdx}. */
  private int groupIndex;
  /** Messages sent through the group router so far. */
  private long groupSends;
  private int directIndex;
  private boolean everListed;
  private int ejectedCount;

  /** A routee failing {@code ejectAfterFailures} attempts in a row is ejected for {@code ejectionNanos}. */
  PolicyRoutees(int ejectAfterFailures, long ejectionNanos) {
    this.ejectAfterFailures = ejectAfterFailures;
    this.ejectionNanos = ejectionNanos;
  }

  /** A first attempt sent through the group router: whom it went to, as far as can be told. */
  record GroupSend(ActorRef<Routee.Command> routee, long sequence) {}

  /** Whether a listing has arrived yet: before it, nothing is known about the policy. */
  boolean listed() {
    return everListed;
  }

  boolean isEmpty() {
    return routees.isEmpty();
  }

  List<ActorRef<Routee.Command>> routees() {
    return routees;
  }

  /**
   * Takes a new listing. Routees that stay keep their health; the group router's index moves as
   * in {@code RoundRobinLogic.routeesUpdated}. Returns whether the set of routees changed.
   */
  boolean update(Collection<ActorRef<Routee.Command>> listing) {
    List<ActorRef<Routee.Command>> sorted = new ArrayList<>(listing);
    sorted.sort(AKKA_ROUND_ROBIN_ORDER);
    boolean changed = !sorted.equals(routees);
    if (everListed) {
      int firstDifference = 0;
      while (firstDifference < routees.size()
          && firstDifference < sorted.size()
          && routees.get(firstDifference).equals(sorted.get(firstDifference))) {
        firstDifference++;
      }
      if (groupIndex > firstDifference) {
        groupIndex--;
      }
    }
    Set<ActorRef<Routee.Command>> listed = new HashSet<>(sorted);
    for (Iterator<Map.Entry<ActorRef<Routee.Command>, Health>> it = health.entrySet().iterator();
        it.hasNext(); ) {
      Map.Entry<ActorRef<Routee.Command>, Health> entry = it.next();
      if (!listed.contains(entry.getKey())) {
        departed.put(entry.getKey(), entry.getValue());
        it.remove();
      }
    }
    for (ActorRef<Routee.Command> routee : sorted) {
      if (!health.containsKey(routee)) {
        Health back = departed.remove(routee);
        health.put(routee, back != null ? back : new Health());
      }
    }
    ejectedCount = 0;
    for (Health h : health.values()) {
      if (h.ejected) {
        ejectedCount++;
      }
    }
    routees = List.copyOf(sorted);
    everListed = true;
    return changed;
  }

  /**
   * Whether the next first attempt may go through the group router: no routee is ejected (the
   * group router would not skip it) and every routee's worker id is known (so that replies can
   * confirm which routee the group router picked). A routee not known yet gets a direct attempt.
   */
  boolean mayUseGroupRouter(long now) {
    if (anyEjected(now)) {
      return false;
    }
    for (Health h : health.values()) {
      if (h.workerId == null) {
        return false;
      }
    }
    return true;
  }

  /** Records a message sent through the group router, and returns whom it picks. */
  GroupSend viaGroupRouter() {
    if (groupIndex >= routees.size()) {
      groupIndex = 0;
    }
    ActorRef<Routee.Command> picked = routees.get(groupIndex);
    groupIndex++;
    return new GroupSend(picked, groupSends++);
  }

  /**
   * Where {@code attempt} goes: a first attempt through the group router when {@link
   * #mayUseGroupRouter}, else (and when every routee is ejected, rather than to none) directly.
   * Returns the attempt as sent.
   */
  Attempt choose(Attempt attempt, long now) {
    if (attempt.number() > 1 || !mayUseGroupRouter(now)) {
      ActorRef<Routee.Command> direct = nextDirect(attempt.tried(), now);
      if (direct != null) {
        return attempt.sentTo(direct, null);
      }
    }
    GroupSend pick = viaGroupRouter();
    return attempt.sentTo(pick.routee(), pick);
  }

  /**
   * The routee for a direct attempt: the next in round robin that is not ejected, preferring one
   * not in {@code tried}, and among those one on a node none of {@code tried} is on; null if
   * every routee is ejected. A routee whose worker id is not known yet comes first, so that it is
   * learnt.
   */
  ActorRef<Routee.Command> nextDirect(List<ActorRef<Routee.Command>> tried, long now) {
    int n = routees.size();
    ActorRef<Routee.Command> untriedSameNode = null;
    ActorRef<Routee.Command> anyHealthy = null;
    for (int i = 0; i < n; i++) {
      int index = Math.floorMod(directIndex + i, n);
      ActorRef<Routee.Command> candidate = routees.get(index);
      if (ejected(candidate, now)) {
        continue;
      }
      if (tried.isEmpty() && health.get(candidate).workerId == null) {
        directIndex = index + 1;
        return candidate;
      }
      if (!tried.contains(candidate)) {
        if (!onTriedNode(candidate, tried)) {
          directIndex = index + 1;
          return candidate;
        }
        if (untriedSameNode == null) {
          untriedSameNode = candidate;
        }
      }
      if (anyHealthy == null) {
        anyHealthy = candidate;
      }
    }
    ActorRef<Routee.Command> chosen = untriedSameNode != null ? untriedSameNode : anyHealthy;
    if (chosen != null) {
      directIndex = routees.indexOf(chosen) + 1;
    }
    return chosen;
  }

  private static boolean onTriedNode(ActorRef<?> candidate, List<ActorRef<Routee.Command>> tried) {
    Address node = candidate.path().address();
    for (ActorRef<?> earlier : tried) {
      if (earlier.path().address().equals(node)) {
        return true;
      }
    }
    return false;
  }

  /**
   * A reply from worker {@code workerId} to an attempt sent to {@code target} (directly, or
   * through the group router as {@code groupSend}, else null). Learns the worker id of a direct
   * target; for a group-router attempt, returns the routee that really answered, and if that is
   * not the predicted one, puts the group router's index right. Returns the routee to credit.
   */
  ActorRef<Routee.Command> answered(
      ActorRef<Routee.Command> target, GroupSend groupSend, String workerId) {
    if (groupSend == null) {
      Health h = health.get(target);
      if (h != null) {
        h.workerId = workerId;
      }
      return target;
    }
    ActorRef<Routee.Command> actual = uniqueRouteeOf(workerId);
    if (actual == null || actual.equals(target)) {
      return target;
    }
    // The group router picked `actual` for message `sequence`: its next pick is the one after,
    // moved on by every message sent through it since.
    long since = groupSends - groupSend.sequence() - 1;
    groupIndex = (int) Math.floorMod(routees.indexOf(actual) + 1 + since, (long) routees.size());
    return actual;
  }

  /** The one listed routee whose replies carry {@code workerId}, or null if none or several. */
  private ActorRef<Routee.Command> uniqueRouteeOf(String workerId) {
    ActorRef<Routee.Command> found = null;
    for (Map.Entry<ActorRef<Routee.Command>, Health> entry : health.entrySet()) {
      if (workerId.equals(entry.getValue().workerId)) {
        if (found != null) {
          return null;
        }
        found = entry.getKey();
      }
    }
    return found;
  }

  /** An attempt went to {@code routee}. */
  void sent(ActorRef<Routee.Command> routee) {
    Health h = health.get(routee);
    if (h != null) {
      h.inFlight++;
    }
  }

  /** An attempt at {@code routee} ended, answered or not. */
  void ended(ActorRef<Routee.Command> routee) {
    Health h = health.get(routee);
    if (h == null) {
      h = departed.get(routee);
    }
    if (h != null && h.inFlight > 0) {
      h.inFlight--;
    }
  }

  /** Every listed routee with its state, in order. */
  List<RouteeState> states(long now) {
    List<RouteeState> states = new ArrayList<>(routees.size());
    for (ActorRef<Routee.Command> routee : routees) {
      Health h = health.get(routee);
      states.add(new RouteeState(routee, h.workerId, ejected(routee, now), h.inFlight));
    }
    return states;
  }

  /** An attempt at {@code routee} was answered: its failures in a row are over. */
  void succeeded(ActorRef<Routee.Command> routee) {
    Health h = health.get(routee);
    if (h != null) {
      h.failuresInARow = 0;
    }
  }

  /** An attempt at {@code routee} got no answer in time. Returns true if this ejects it. */
  boolean failed(ActorRef<Routee.Command> routee, long now) {
    Health h = health.get(routee);
    if (h == null || ejected(routee, now)) {
      return false;
    }
    if (++h.failuresInARow < ejectAfterFailures) {
      return false;
    }
    h.failuresInARow = 0;
    h.ejected = true;
    h.ejectedUntilNanos = now + ejectionNanos;
    ejectedCount++;
    return true;
  }

  /** Whether {@code routee} is ejected now; an ejection that has run out ends here. */
  boolean ejected(ActorRef<Routee.Command> routee, long now) {
    Health h = health.get(routee);
    if (h == null || !h.ejected) {
      return false;
    }
    if (h.ejectedUntilNanos - now <= 0) {
      h.ejected = false;
      ejectedCount--;
      return false;
    }
    return true;
  }

  private boolean anyEjected(long now) {
    if (ejectedCount == 0) {
      return false;
    }
    for (ActorRef<Routee.Command> routee : routees) {
      ejected(routee, now);
    }
    return ejectedCount > 0;
  }
}
