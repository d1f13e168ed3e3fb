package revproxy.proxy;

import akka.actor.typed.ActorRef;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import revproxy.routee.Routee;

/**
 * Outlier detection for the routees of one policy, as in Envoy's: each routee's health record
 * ({@link RouteeHealth}) and the rules that judge it. {@link PolicyRoutees} chooses among the
 * routees; this class says which of them are fit to be chosen.
 *
 * <p>A routee that has had attempts in flight and no reply for {@code overdue-after} (and for 10
 * times the policy's median latency) is <i>overdue</i> ({@link #overdue}), which is how a silent or
 * a slow routee shows; so is one whose attempts time out {@code eject-after-timeouts} times in a
 * row ({@link #timedOut}). The router ejects it (at most {@code max-ejected-percent} of the routees
 * at once) and retries its attempts at once. One that has {@code max-unanswered} attempts out and
 * no reply for {@code hold-after} (and for 3 times the median latency) is held back: it gets no new
 * attempt meanwhile ({@link #unavailable}), and so does one that never answered yet and has one
 * attempt out. One that never answered is overdue once its first attempt (since its last ejection)
 * is {@code first-reply-after} old, whatever "unavailable" it says meanwhile. One ejected within
 * {@code warm-up} of its first answer to this proxy (a node just started stalls now and then while
 * its JIT compiles) is ejected for {@code warm-up-ejection-time} instead of {@code ejection-time},
 * the first time of a run; if its probe fails too, the run goes on as without the warm-up.
 *
 * <p>A record belongs to a routee and survives listing updates, also while it drops out of the
 * listing and comes back.
 *
 * <p>Plain and single-threaded: it lives inside the {@code RouterActor}.
 */
final class OutlierDetector {

  /** Routees that left the listing whose health is kept, in case they come back. */
  static final int MAX_DEPARTED = 64;

  /**
   * How long a routee that left the listing still counts for {@link #allSteadyAndKnown}: the group
   * router gets its listings at other moments than the router, and may still (or already again)
   * list it. A legacy backend that loses its connection leaves and comes back within a second or
   * two.
   */
  static final long DEPARTED_WATCH_NANOS = 5_000_000_000L;

  /** The median latency is recomputed every this many uses (it moves slowly). */
  static final int MEDIAN_REUSE = 64;

  private final OutlierSettings settings;
  private final long overdueFloorNanos;
  private final long overdueCeilingNanos;

  /** When a routee that never answered is overdue; past the attempt timeout: never. */
  private final long firstReplyNanos;

  private final long holdFloorNanos;
  private final long warmUpNanos;

  /** The listed routees, in the router's order. */
  private List<ActorRef<Routee.Command>> routees = List.of();

  private final Map<ActorRef<Routee.Command>, RouteeHealth> health = new HashMap<>();

  /**
   * The health of routees that left the listing, oldest first. A routee that drops out and comes
   * back (a legacy backend that loses its connection after each unanswered request) must not start
   * with a clean record each time, or it would never be ejected.
   */
  private final Map<ActorRef<Routee.Command>, RouteeHealth> departed =
      new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(
            Map.Entry<ActorRef<Routee.Command>, RouteeHealth> eldest) {
          return size() > MAX_DEPARTED;
        }
      };

  private long median;
  private int medianUses;

  /** {@code attemptTimeoutNanos}: no routee is overdue later than its attempt would time out. */
  OutlierDetector(OutlierSettings settings, long attemptTimeoutNanos) {
    this.settings = settings;
    this.overdueFloorNanos = settings.overdueAfter().toNanos();
    this.overdueCeilingNanos = Math.max(overdueFloorNanos, attemptTimeoutNanos);
    long firstReply = settings.firstReplyAfter().toNanos();
    this.firstReplyNanos = firstReply < attemptTimeoutNanos ? firstReply : Long.MAX_VALUE;
    this.holdFloorNanos = settings.holdAfter().toNanos();
    this.warmUpNanos = settings.warmUp().toNanos();
  }

  /**
   * Takes the listing, in the router's order: a routee that stays keeps its record, one that leaves
   * has it kept among the last {@link #MAX_DEPARTED} departed, one that comes back gets it again.
   */
  void listed(List<ActorRef<Routee.Command>> listing) {
    listed(listing, 0);
  }

  /** {@link #listed(List)} at {@code now}, when the routees that left did. */
  void listed(List<ActorRef<Routee.Command>> listing, long now) {
    Set<ActorRef<Routee.Command>> listed = new HashSet<>(listing);
    for (Iterator<Map.Entry<ActorRef<Routee.Command>, RouteeHealth>> it =
            health.entrySet().iterator();
        it.hasNext(); ) {
      Map.Entry<ActorRef<Routee.Command>, RouteeHealth> entry = it.next();
      if (!listed.contains(entry.getKey())) {
        entry.getValue().departedNanos = now;
        departed.put(entry.getKey(), entry.getValue());
        it.remove();
      }
    }
    for (ActorRef<Routee.Command> routee : listing) {
      if (!health.containsKey(routee)) {
        RouteeHealth back = departed.remove(routee);
        health.put(routee, back != null ? back : new RouteeHealth());
      }
    }
    routees = listing;
  }

  /** The record of a listed routee, or null for one not listed. */
  RouteeHealth health(ActorRef<Routee.Command> routee) {
    return health.get(routee);
  }

  /** The record of a listed routee or of one that left, or null. */
  private RouteeHealth record(ActorRef<Routee.Command> routee) {
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
    RouteeHealth h = record(routee);
    if (h != null) {
      h.ended();
    }
  }

  /**
   * {@code routee} replied at {@code now} to an attempt sent at {@code sentNanos}: with a hash
   * ({@code hashed}), or "unavailable" (progress, but no latency).
   */
  void replied(ActorRef<Routee.Command> routee, boolean hashed, long sentNanos, long now) {
    RouteeHealth h = record(routee);
    if (h != null) {
      if (hashed) {
        h.answered(sentNanos, now);
      } else {
        h.replied(now);
      }
    }
  }

  /**
   * Whether every listed routee is steady (not ejected, probing or held back) and its worker id is
   * known: what lets first attempts go through the group router.
   */
  boolean allSteadyAndKnown(long now) {
    long hold = holdNanos();
    for (RouteeHealth h : health.values()) {
      if (h.workerId == null || !h.steady(now, settings.maxUnanswered(), hold)) {
        return false;
      }
    }
    // A routee that left the listing lately and is not steady (or never answered): the group
    // router may still list it, or list it again first, and its pick would be pinned on another
    // routee (a silent legacy server, reconnecting after each unanswered request, took one
    // request per reconnect that way).
    for (RouteeHealth h : departed.values()) {
      if (now - h.departedNanos < DEPARTED_WATCH_NANOS
          && (h.latencyNanos() < 0 || !h.steady(now, settings.maxUnanswered(), hold))) {
        return false;
      }
    }
    return true;
  }

  /**
   * Whether the listed {@code routee} should get no new attempt now (see {@link
   * RouteeHealth#unavailable}); {@code holdNanos} is {@link #holdNanos()}, taken once per scan of
   * the routees.
   */
  boolean unavailable(ActorRef<Routee.Command> routee, long now, long holdNanos) {
    return health.get(routee).unavailable(now, settings.maxUnanswered(), holdNanos);
  }

  /**
   * An attempt at {@code routee} timed out. Returns whether this ejects it: {@code
   * eject-after-timeouts} in a row, or a probe's.
   */
  boolean timedOut(ActorRef<Routee.Command> routee, long now) {
    RouteeHealth h = health.get(routee);
    return h != null
        && !h.ejected(now)
        && h.timedOut(settings.ejectAfterTimeouts())
        && eject(routee, now);
  }

  /**
   * The listed routees that are overdue now and not ejected yet: outliers to eject. A routee that
   * never answered yet is judged from its first attempt instead, after {@code first-reply-after}:
   * its first reply may take a second (a worker on a node whose JVM is cold, its first remote
   * message still being set up); the hold-back rule keeps its attempts few meanwhile. Without that
   * limit, a backend that accepts and never answers would be judged by attempt timeouts only, which
   * a legacy server's own reply timeout ("unavailable", then a new connection) keeps from ever
   * adding up, and its "unavailable" replies would count as progress.
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
   * Ejects {@code routee} now, unless that would eject more than {@code max-ejected-percent} of the
   * routees (one may always be, if there are two or more: the last one is never ejected, since its
   * requests would have nowhere else to go). A routee that never answered is no capacity to keep:
   * it is ejected whatever the others, and does not count against them (on a starved machine a
   * healthy routee ejected for a pause would otherwise keep a silent one in the rotation for a
   * whole ejection). Returns whether it did.
   */
  boolean eject(ActorRef<Routee.Command> routee, long now) {
    RouteeHealth h = health.get(routee);
    if (h == null || routees.size() < 2) {
      return false;
    }
    int ejected = 0;
    int ejectedAll = 0;
    for (RouteeHealth other : health.values()) {
      if (other.ejected(now)) {
        ejectedAll++;
        if (other.latencyNanos() >= 0) {
          ejected++;
        }
      }
    }
    int allowed = Math.max(1, routees.size() * settings.maxEjectedPercent() / 100);
    if (h.latencyNanos() >= 0 && ejected >= allowed) {
      return false;
    }
    if (ejectedAll + 1 >= routees.size()) {
      return false; // never every routee: the last one's requests would have nowhere to go
    }
    long first = h.warmingUp(now, warmUpNanos) ? settings.warmUpEjectionTime().toNanos() : 0;
    h.eject(now, settings.ejectionTime().toNanos(), settings.maxEjectionTime().toNanos(), first);
    return true;
  }

  /** How long {@code routee} stays ejected from {@code now}, in ms (0 if it is not). */
  long ejectedForMillis(ActorRef<Routee.Command> routee, long now) {
    RouteeHealth h = health.get(routee);
    return h != null && h.ejected(now) ? h.ejectedForNanos(now) / 1_000_000 : 0;
  }

  /** Whether {@code routee} is ejected now. */
  boolean ejected(ActorRef<Routee.Command> routee, long now) {
    RouteeHealth h = health.get(routee);
    return h != null && h.ejected(now);
  }

  /**
   * How long a routee may have attempts out without a reply: {@code overdue-after}, or 10 times the
   * policy's median latency if that is longer (a policy of slow backends is not a policy of
   * outliers), at most the attempt timeout.
   */
  long overdueNanos() {
    return Math.min(overdueCeilingNanos, Math.max(overdueFloorNanos, 10 * medianLatencyNanos()));
  }

  /**
   * How long a routee with {@code max-unanswered} attempts out may go without a reply before it is
   * held back: {@code hold-after}, or 3 times the policy's median latency if that is longer.
   */
  long holdNanos() {
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
    double[] latencies = new double[health.size()];
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
}
