package revproxy.proxy;

import akka.actor.Address;
import akka.actor.typed.ActorRef;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import revproxy.routee.Routee;

/**
 * The reachable routees of one policy, as the router sees them: their order, whom the group router
 * picks next, and the router's own round robin for direct attempts, among the routees its {@link
 * OutlierDetector} finds fit.
 *
 * <p><b>Order.</b> Routees are ordered as Akka's {@code RoundRobinLogic} orders them (by path
 * without address, then by address), and {@link #update} moves the group router's index exactly as
 * that logic does. So this class knows which routee the group router will pick for the next message
 * ({@link #viaGroupRouter}): the first attempt of a request goes through the group router, as the
 * design asks, yet its failure can be pinned on a routee. The prediction is checked against every
 * reply that names its worker ({@link #replied}); the group router and this class receive listings
 * at slightly different moments, and a mismatch puts the index right again.
 *
 * <p><b>Outliers</b> ({@link OutlierDetector}): while any routee is ejected, probing or held back,
 * first attempts go directly (the group router cannot skip one), and direct attempts skip it.
 *
 * <p><b>Retries</b> go to the next routee in this class's own round robin that is available and not
 * tried already, preferring one on a node no attempt of the request went to.
 *
 * <p>Plain and single-threaded: it lives inside the {@code RouterActor}.
 */
final class PolicyRoutees {

  /** The order of Akka's {@code RoundRobinLogic}: by path without address, then by address. */
  static final Comparator<ActorRef<?>> AKKA_ROUND_ROBIN_ORDER =
      Comparator.<ActorRef<?>, String>comparing(ref -> ref.path().toStringWithoutAddress())
          .thenComparing(ref -> ref.path().address(), Address.addressOrdering());

  /** One routee as {@code /routing} shows it: {@code state} is serving, probing or ejected. */
  record RouteeState(
      ActorRef<Routee.Command> routee, String workerId, String state, int inFlight) {}

  private final OutlierDetector outliers;
  private List<ActorRef<Routee.Command>> routees = List.of();

  /** Mirror of the group router's {@code nextIdx}. */
  private int groupIndex;

  /** Messages sent through the group router so far. */
  private long groupSends;

  private int directIndex;
  private boolean everListed;
  private boolean anyRemote;

  /** Whether the last listing took away the last routee, and when: see {@link #emptiedWithin}. */
  private boolean emptied;

  private long emptiedNanos;

  /** {@code outliers}: the policy's outlier detector, which judges these routees. */
  PolicyRoutees(OutlierDetector outliers) {
    this.outliers = outliers;
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

  /**
   * Whether the policy has no routee because a listing took its last one away less than {@code
   * graceNanos} before {@code now} (not because it never had one).
   */
  boolean emptiedWithin(long now, long graceNanos) {
    return emptied && routees.isEmpty() && now - emptiedNanos < graceNanos;
  }

  /** When the grace that {@link #emptiedWithin} gives ends; only while it is emptied. */
  long emptiedGraceEnds(long graceNanos) {
    return emptiedNanos + graceNanos;
  }

  List<ActorRef<Routee.Command>> routees() {
    return routees;
  }

  /**
   * Takes a new listing, and gives it to the outlier detector (routees that stay keep their
   * health); the group router's index moves as in {@code RoundRobinLogic.routeesUpdated}. Returns
   * whether the set of routees changed.
   */
  boolean update(Collection<ActorRef<Routee.Command>> listing) {
    return update(listing, 0);
  }

  /** {@link #update(Collection)} at {@code now} (when routees that left did). */
  boolean update(Collection<ActorRef<Routee.Command>> listing, long now) {
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
    if (sorted.isEmpty() && !routees.isEmpty()) {
      emptied = true;
      emptiedNanos = now;
    } else if (!sorted.isEmpty()) {
      emptied = false;
    }
    routees = List.copyOf(sorted);
    outliers.listed(routees, now);
    anyRemote = routees.stream().anyMatch(routee -> routee.path().address().hasGlobalScope());
    everListed = true;
    return changed;
  }

  /**
   * Whether the next first attempt may go through the group router: every routee is steady (not
   * ejected, probing or held back: the group router would not skip it) and its worker id is known
   * (so that replies can confirm which routee the group router picked). A routee not known yet gets
   * a direct attempt.
   */
  boolean mayUseGroupRouter(long now) {
    return outliers.allSteadyAndKnown(now);
  }

  /** Records a message sent through the group router, and returns whom it picks. */
  GroupSend viaGroupRouter() {
    GroupSend pick = viaGroupRouter(0);
    groupMessagesSent(1);
    return pick;
  }

  /**
   * Whom the group router picks for the next request, carried by the message {@code messageOffset}
   * after the last one recorded by {@link #groupMessagesSent}. Requests batched into fewer messages
   * ({@link Outbox}) are picked one by one, and their messages recorded once.
   */
  GroupSend viaGroupRouter(int messageOffset) {
    if (groupIndex >= routees.size()) {
      groupIndex = 0;
    }
    ActorRef<Routee.Command> picked = routees.get(groupIndex);
    groupIndex++;
    return new GroupSend(picked, groupSends + messageOffset);
  }

  /** {@code count} messages went through the group router. */
  void groupMessagesSent(int count) {
    groupSends += count;
  }

  /** Whether a routee runs on another node: then attempts are batched ({@link Outbox}). */
  boolean anyRemote() {
    return anyRemote;
  }

  /**
   * Where {@code attempt} goes: a first attempt through the group router when {@link
   * #mayUseGroupRouter}, else directly to the next available routee. When none is available, a
   * retry goes to a routee it has not tried even if that one is ejected (ejection is a guess, while
   * the tried one did fail this request), else to the one with the fewest attempts out that is not
   * ejected; when every routee is ejected, through the group router (rather than to none). Returns
   * the attempt as sent.
   */
  Attempt choose(Attempt attempt, long now) {
    ActorRef<Routee.Command> direct = direct(attempt, now);
    if (direct != null) {
      return attempt.sentTo(direct, null, now);
    }
    GroupSend pick = viaGroupRouter();
    return attempt.sentTo(pick.routee(), pick, now);
  }

  /**
   * As {@link #choose}: the routee for a direct attempt, or null when the attempt goes through the
   * group router.
   */
  ActorRef<Routee.Command> direct(Attempt attempt, long now) {
    if (attempt.number() > 1 || !mayUseGroupRouter(now)) {
      ActorRef<Routee.Command> direct = nextDirect(attempt.tried(), now);
      if (attempt.number() > 1 && (direct == null || attempt.tried().contains(direct))) {
        ActorRef<Routee.Command> untried = untried(attempt.tried(), now);
        if (untried != null) {
          direct = untried;
        }
      }
      if (direct == null) {
        direct = leastLoaded(now);
      }
      return direct;
    }
    return null;
  }

  /**
   * A routee not in {@code tried}, on another node if there is one, and not an ejected one that
   * never answered (its ejection is no guess); null if there is none.
   */
  private ActorRef<Routee.Command> untried(List<ActorRef<Routee.Command>> tried, long now) {
    ActorRef<Routee.Command> sameNode = null;
    for (ActorRef<Routee.Command> candidate : routees) {
      RouteeHealth h = outliers.health(candidate);
      if (!tried.contains(candidate) && !(h.latencyNanos() < 0 && h.ejected(now))) {
        if (!onTriedNode(candidate, tried)) {
          return candidate;
        }
        if (sameNode == null) {
          sameNode = candidate;
        }
      }
    }
    return sameNode;
  }

  /** The routee, not ejected, with the fewest attempts out (the first in round robin on a tie). */
  private ActorRef<Routee.Command> leastLoaded(long now) {
    ActorRef<Routee.Command> best = null;
    int fewest = Integer.MAX_VALUE;
    int n = routees.size();
    for (int i = 0; i < n; i++) {
      ActorRef<Routee.Command> candidate = routees.get(Math.floorMod(directIndex + i, n));
      RouteeHealth h = outliers.health(candidate);
      if (!h.ejected(now) && h.inFlight() < fewest) {
        best = candidate;
        fewest = h.inFlight();
      }
    }
    if (best != null) {
      directIndex = routees.indexOf(best) + 1;
    }
    return best;
  }

  /**
   * The routee for a direct attempt: the next in round robin that is available (not ejected,
   * probing with its probe out, or held back), preferring one not in {@code tried}, and among those
   * one on a node none of {@code tried} is on; null if none is available. A routee whose worker id
   * is not known yet comes first, so that it is learnt.
   */
  ActorRef<Routee.Command> nextDirect(List<ActorRef<Routee.Command>> tried, long now) {
    int n = routees.size();
    long hold = outliers.holdNanos();
    ActorRef<Routee.Command> untriedSameNode = null;
    ActorRef<Routee.Command> anyHealthy = null;
    for (int i = 0; i < n; i++) {
      int index = Math.floorMod(directIndex + i, n);
      ActorRef<Routee.Command> candidate = routees.get(index);
      if (outliers.unavailable(candidate, now, hold)) {
        continue;
      }
      if (tried.isEmpty() && outliers.health(candidate).workerId == null) {
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
   * A reply from worker {@code workerId} to an attempt sent to {@code target} at {@code sentNanos}
   * (directly, or through the group router as {@code groupSend}, else null), with a hash ({@code
   * hashed}) or "unavailable". Learns the worker id of a direct target; for a group-router attempt,
   * finds the routee that really answered, and if that is not the predicted one, puts the group
   * router's index right. Credits that routee with the reply.
   */
  void replied(
      ActorRef<Routee.Command> target,
      GroupSend groupSend,
      String workerId,
      boolean hashed,
      long sentNanos,
      long now) {
    ActorRef<Routee.Command> credited = target;
    if (groupSend == null) {
      RouteeHealth h = outliers.health(target);
      if (h != null) {
        h.workerId = workerId;
      }
    } else {
      ActorRef<Routee.Command> actual = uniqueRouteeOf(workerId);
      if (actual != null && !actual.equals(target)) {
        // The group router picked `actual` for message `sequence`: its next pick is the one
        // after, moved on by every message sent through it since.
        long since = groupSends - groupSend.sequence() - 1;
        groupIndex =
            (int) Math.floorMod(routees.indexOf(actual) + 1 + since, (long) routees.size());
        credited = actual;
      }
    }
    outliers.replied(credited, hashed, sentNanos, now);
  }

  /** The one listed routee whose replies carry {@code workerId}, or null if none or several. */
  private ActorRef<Routee.Command> uniqueRouteeOf(String workerId) {
    ActorRef<Routee.Command> found = null;
    for (ActorRef<Routee.Command> routee : routees) {
      if (workerId.equals(outliers.health(routee).workerId)) {
        if (found != null) {
          return null;
        }
        found = routee;
      }
    }
    return found;
  }

  /** Every listed routee with its state, in order. */
  List<RouteeState> states(long now) {
    List<RouteeState> states = new ArrayList<>(routees.size());
    for (ActorRef<Routee.Command> routee : routees) {
      RouteeHealth h = outliers.health(routee);
      String state = h.ejected(now) ? "ejected" : h.probing() ? "probing" : "serving";
      states.add(new RouteeState(routee, h.workerId, state, h.inFlight()));
    }
    return states;
  }
}
