package revproxy.proxy;

import akka.actor.Address;
import akka.actor.typed.ActorRef;
import java.util.ArrayList;
import java.util.Arrays;
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
 * <p><b>Health</b> ({@link RouteeHealth}) belongs to a routee and survives listing updates, also
 * while it drops out of the listing and comes back. Outliers, as in Envoy's outlier detection:
 * a routee that has had attempts in flight and no reply for {@code overdue-after} (and for 10
 * times the policy's median latency) is <i>overdue</i>, which is how a silent or a slow routee
 * shows; so is one whose attempts time out {@code eject-after-timeouts} times in a row. The
 * router ejects it (at most {@code max-ejected-percent} of the routees at once) and retries its
 * attempts at once. One that has {@code max-unanswered} attempts out and no reply for {@code
 * hold-after} gets no new attempt meanwhile, nor does one that never answered yet and has one
 * out. While any routee is ejected, probing or held back,
 * first attempts go directly (the group router cannot skip one).
 *
 * <p><b>Retries</b> go to the next routee in this class's own round robin that is available and
 * not tried already, preferring one on a node no attempt of the request went to.
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

  /** Routees that left the listing whose health is kept, in case they come back. */
  static final int MAX_DEPARTED = 64;

  private final OutlierSettings outliers;
  private final long overdueFloorNanos;
  private final long overdueCeilingNanos;
  /** When a routee that never answered is overdue; past the attempt timeout: never. */
  private final long firstReplyNanos;
  private final long holdFloorNanos;
  private List<ActorRef<Routee.Command>> routees = List.of();
  private final Map<ActorRef<Routee.Command>, RouteeHealth> health = new HashMap<>();
  /**
   * The health of routees that left the listing, oldest first. A routee that drops out and comes
   * back (a legacy backend that loses its connection after each unanswered request) must not
   * start with a clean record each time, or it would never be ejected.
   */
  private final Map<ActorRef<Routee.Command>, RouteeHealth> departed =
      new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<ActorRef<Routee.Command>, RouteeHealth> eldest) {
          return size() > MAX_DEPARTED;
        }
      };
  /** Mirror of the group router's {@code nextIdx}. */
  private int groupIndex;
  /** Messages sent through the group router so far. */
  private long groupSends;
  private int directIndex;
  private boolean everListed;
  /** The median latency, recomputed every {@link #MEDIAN_REUSE} uses (it moves slowly). */
  private long median;
  private int medianUses;

  private static final int MEDIAN_REUSE = 64;

  /**
   * How long a routee that left the listing still counts for {@link #mayUseGroupRouter}: the
   * group router gets its listings at other moments than this class, and may still (or already
   * again) list it. A legacy backend that loses its connection leaves and comes back within a
   * second or two.
   */
  static final long DEPARTED_WATCH_NANOS = 5_000_000_000L;

  /** {@code attemptTimeoutNanos}: no routee is overdue later than its attempt would time out. */
  PolicyRoutees(OutlierSettings outliers, long attemptTimeoutNanos) {
    this.outliers = outliers;
    this.overdueFloorNanos = outliers.overdueAfter().toNanos();
    this.overdueCeilingNanos = Math.max(overdueFloorNanos, attemptTimeoutNanos);
    long firstReply = outliers.firstReplyAfter().toNanos();
    this.firstReplyNanos = firstReply < attemptTimeoutNanos ? firstReply : Long.MAX_VALUE;
    this.holdFloorNanos = outliers.holdAfter().toNanos();
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

  /** {@link #update(Collection, long)} at time 0. */
  boolean update(Collection<ActorRef<Routee.Command>> listing) {
    return update(listing, 0);
  }

  /**
   * Takes a new listing at {@code now}. Routees that stay keep their health; the group router's
   * index moves as in {@code RoundRobinLogic.routeesUpdated}. Returns whether the set of routees
   * changed.
   */
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
    Set<ActorRef<Routee.Command>> listed = new HashSet<>(sorted);
    for (Iterator<Map.Entry<ActorRef<Routee.Command>, RouteeHealth>> it = health.entrySet().iterator();
        it.hasNext(); ) {
      Map.Entry<ActorRef<Routee.Command>, RouteeHealth> entry = it.next();
      if (!listed.contains(entry.getKey())) {
        entry.getValue().departedNanos = now;
        departed.put(entry.getKey(), entry.getValue());
        it.remove();
      }
    }
    for (ActorRef<Routee.Command> routee : sorted) {
      if (!health.containsKey(routee)) {
        RouteeHealth back = departed.remove(routee);
        health.put(routee, back != null ? back : new RouteeHealth());
      }
    }
    routees = List.copyOf(sorted);
    everListed = true;
    return changed;
  }

  /**
   * Whether the next first attempt may go through the group router: every routee is steady (not
   * ejected, probing or held back: the group router would not skip it) and its worker id is known
   * (so that replies can confirm which routee the group router picked). A routee not known yet
   * gets a direct attempt. So does every first attempt while a routee that left the listing in
   * the last {@link #DEPARTED_WATCH_NANOS} is not steady or never answered: the group router may
   * still list it, or list it again before this class does, and an attempt it sent there would
   * be pinned on another routee (a silent legacy server, reconnecting after each request it left
   * unanswered, took one such request per reconnect).
   */
  boolean mayUseGroupRouter(long now) {
    long hold = holdNanos();
    for (RouteeHealth h : health.values()) {
      if (h.workerId == null || !h.steady(now, outliers.maxUnanswered(), hold)) {
        return false;
      }
    }
    for (RouteeHealth h : departed.values()) {
      if (now - h.departedNanos < DEPARTED_WATCH_NANOS
          && (h.latencyNanos() < 0 || !h.steady(now, outliers.maxUnanswered(), hold))) {
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
   * #mayUseGroupRouter}, else directly to the next available routee. When none is available, a
   * retry goes to a routee it has not tried even if that one is ejected (ejection is a guess,
   * while the tried one did fail this request) unless it never answered (then it is no guess),
   * else to the one with the fewest attempts out that is not ejected; when every routee is
   * ejected, through the group router (rather than to none). Returns the attempt as sent.
   */
  Attempt choose(Attempt attempt, long now) {
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
      if (direct != null) {
        return attempt.sentTo(direct, null, now);
      }
    }
    GroupSend pick = viaGroupRouter();
    return attempt.sentTo(pick.routee(), pick, now);
  }

  /**
   * A routee not in {@code tried}, on another node if there is one, and not an ejected one that
   * never answered; null if there is none.
   */
  private ActorRef<Routee.Command> untried(List<ActorRef<Routee.Command>> tried, long now) {
    ActorRef<Routee.Command> sameNode = null;
    for (ActorRef<Routee.Command> candidate : routees) {
      RouteeHealth h = health.get(candidate);
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
      RouteeHealth h = health.get(candidate);
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
   * probing with its probe out, or held back), preferring one not in {@code tried}, and among
   * those one on a node none of {@code tried} is on; null if none is available. A routee whose
   * worker id is not known yet comes first, so that it is learnt.
   */
  ActorRef<Routee.Command> nextDirect(List<ActorRef<Routee.Command>> tried, long now) {
    int n = routees.size();
    long hold = holdNanos();
    ActorRef<Routee.Command> untriedSameNode = null;
    ActorRef<Routee.Command> anyHealthy = null;
    for (int i = 0; i < n; i++) {
      int index = Math.floorMod(directIndex + i, n);
      ActorRef<Routee.Command> candidate = routees.get(index);
      if (health.get(candidate).unavailable(now, outliers.maxUnanswered(), hold)) {
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
   * A reply from worker {@code workerId} to an attempt sent to {@code target} at {@code sentNanos}
   * (directly, or through the group router as {@code groupSend}, else null), with a hash ({@code
   * hashed}) or "unavailable". Learns the worker id of a direct target; for a group-router
   * attempt, finds the routee that really answered, and if that is not the predicted one, puts
   * the group router's index right. Credits that routee with the reply.
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
      RouteeHealth h = health.get(target);
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
    RouteeHealth h = healthOf(credited);
    if (h != null) {
      if (hashed) {
        h.answered(sentNanos, now);
      } else {
        h.replied(now);
      }
    }
  }

  /** The one listed routee whose replies carry {@code workerId}, or null if none or several. */
  private ActorRef<Routee.Command> uniqueRouteeOf(String workerId) {
    ActorRef<Routee.Command> found = null;
    for (Map.Entry<ActorRef<Routee.Command>, RouteeHealth> entry : health.entrySet()) {
      if (workerId.equals(entry.getValue().workerId)) {
        if (found != null) {
          return null;
        }
        found = entry.getKey();
      }
    }
    return found;
  }

  private RouteeHealth healthOf(ActorRef<Routee.Command> routee) {
    RouteeHealth h = health.get(routee);
    return h != null ? h : departed.get(routee);
  }

  /** An attempt went to {@code routee} at {@code now}. */
  void sent(ActorRef<Routee.Command> routee, long now) {
    RouteeHealth h = health.get(routee);
    if (h != null) {
      h.sent(now);
    }
  }

  /** An attempt at {@code routee} ended, answered or not. */
  void ended(ActorRef<Routee.Command> routee) {
    RouteeHealth h = healthOf(routee);
    if (h != null) {
      h.ended();
    }
  }

  /**
   * An attempt at {@code routee} timed out. Returns whether this ejects it: {@code
   * eject-after-timeouts} in a row, or a probe's.
   */
  boolean timedOut(ActorRef<Routee.Command> routee, long now) {
    RouteeHealth h = health.get(routee);
    return h != null
        && !h.ejected(now)
        && h.timedOut(outliers.ejectAfterTimeouts())
        && eject(routee, now);
  }

  /**
   * The listed routees that are overdue now and not ejected yet: outliers to eject. A routee that
   * never answered yet is judged from its first attempt instead, after {@code first-reply-after}:
   * its first reply may take a second (a worker on a node whose JVM is cold, its first remote
   * message still being set up); the hold-back rule keeps its attempts few meanwhile. Without
   * that limit, a backend that accepts and never answers would be judged by attempt timeouts
   * only, which a legacy server's own reply timeout ("unavailable", then a new connection) keeps
   * from ever adding up, and its "unavailable" replies would count as progress.
   */
  List<ActorRef<Routee.Command>> overdue(long now) {
    long overdue = overdueNanos();
    List<ActorRef<Routee.Command>> found = new ArrayList<>();
    for (ActorRef<Routee.Command> routee : routees) {
      RouteeHealth h = health.get(routee);
      boolean outlier =
          h.latencyNanos() >= 0
              ? h.overdue(now, overdue)
              : firstReplyNanos != Long.MAX_VALUE && h.firstReplyOverdue(now, firstReplyNanos);
      if (outlier && !h.ejected(now)) {
        found.add(routee);
      }
    }
    return found;
  }

  /**
   * Ejects {@code routee} now, unless that would eject more than {@code max-ejected-percent} of
   * the routees (one may always be, if there are two or more: the last one is never ejected,
   * since its requests would have nowhere else to go). A routee that never answered is no
   * capacity to keep: it is ejected whatever the others, and does not count against them (on a
   * starved machine a healthy routee ejected for a pause would otherwise keep a silent one in
   * the rotation for a whole ejection). Returns whether it did.
   */
  boolean eject(ActorRef<Routee.Command> routee, long now) {
    RouteeHealth h = health.get(routee);
    if (h == null || routees.size() < 2) {
      return false;
    }
    int ejected = 0;
    for (RouteeHealth other : health.values()) {
      if (other.ejected(now) && other.latencyNanos() >= 0) {
        ejected++;
      }
    }
    int allowed = Math.max(1, routees.size() * outliers.maxEjectedPercent() / 100);
    if (h.latencyNanos() >= 0 && ejected >= allowed) {
      return false;
    }
    h.eject(now, outliers.ejectionTime().toNanos(), outliers.maxEjectionTime().toNanos());
    return true;
  }

  /** Whether {@code routee} is ejected now. */
  boolean ejected(ActorRef<Routee.Command> routee, long now) {
    RouteeHealth h = health.get(routee);
    return h != null && h.ejected(now);
  }

  /**
   * How long a routee may have attempts out without a reply: {@code overdue-after}, or 10 times
   * the policy's median latency if that is longer (a policy of slow backends is not a policy of
   * outliers), at most the attempt timeout.
   */
  long overdueNanos() {
    return Math.min(overdueCeilingNanos, Math.max(overdueFloorNanos, 10 * medianLatencyNanos()));
  }

  private long holdNanos() {
    return Math.max(holdFloorNanos, 3 * medianLatencyNanos());
  }

  /** The median of the routees' average latencies (0 before any answered), cached briefly. */
  private long medianLatencyNanos() {
    if (--medianUses > 0) {
      return median;
    }
    medianUses = MEDIAN_REUSE;
    median = computeMedianLatencyNanos();
    return median;
  }

  private long computeMedianLatencyNanos() {
    double[] latencies = new double[routees.size()];
    int known = 0;
    for (RouteeHealth h : health.values()) {
      if (h.latencyNanos() >= 0) {
        latencies[known++] = h.latencyNanos();
      }
    }
    if (known == 0) {
      return 0;
    }
    Arrays.sort(latencies, 0, known);
    return (long) latencies[known / 2];
  }

  /** Every listed routee with its state, in order. */
  List<RouteeState> states(long now) {
    List<RouteeState> states = new ArrayList<>(routees.size());
    for (ActorRef<Routee.Command> routee : routees) {
      RouteeHealth h = health.get(routee);
      String state = h.ejected(now) ? "ejected" : h.probing() ? "probing" : "serving";
      states.add(new RouteeState(routee, h.workerId, state, h.inFlight()));
    }
    return states;
  }
}
