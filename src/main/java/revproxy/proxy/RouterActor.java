package revproxy.proxy;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.Routers;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.actor.typed.receptionist.Receptionist;
import akka.actor.typed.receptionist.ServiceKey;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Queue;
import java.util.concurrent.ThreadLocalRandom;
import revproxy.routee.Routee;
import revproxy.protocol.ErrorCode;

/**
 * Routes each request to a worker of its policy, round robin.
 *
 * <p>Per policy it keeps one group router ({@code Routers.group(key).withRoundRobinRouting()}),
 * created when the policy is first asked for, and its own subscription to the policy's receptionist
 * listing (reachable workers only). The router alone would silently drop a message when a policy
 * has no worker; the listing lets this actor answer {@code no_worker_for_policy} at once instead.
 *
 * <p>Failures: an attempt that times out, or that the routee answers {@link
 * Routee.Unavailable}, is retried (hashing is idempotent), at most {@code max-attempts} times
 * within {@code request-timeout}. A retry cannot go through the group router, which does not say
 * which routee it picked: this actor sends it straight to the next routee of its own listing that
 * the request has not tried. A routee whose direct attempts time out {@code eject-after-failures}
 * times in a row is ejected for {@code ejection-time}: while a policy has an ejected routee, its first
 * attempts too are sent directly, skipping it. So a crashed node's workers stop getting traffic
 * after a few failed attempts, before the cluster even marks the node unreachable.
 *
 * <p>Each attempt is a plain {@code tell} with a request id that the worker's reply carries back,
 * not an ask: no temporary actor and no scheduled task per request. Attempts time out by a check
 * every {@value #TIMEOUT_CHECK_MILLIS} ms while any is out. Request ids start at a random number
 * in each incarnation of this actor: after a restart, a late reply to an attempt of the old one
 * matches nothing and is dropped (its request gets the stream's own timeout error), instead of
 * being taken for the answer to a new request that reused its id.
 *
 * <p>At most {@code max-policies} policies are tracked. One that has no worker and got no request
 * for {@code forget-policy-after} is forgotten (its router and subscription stop), so requests for
 * made-up policy ids cannot use up the slots for good.
 */
public final class RouterActor extends AbstractBehavior<RouterActor.Command> {

  private static final long MIN_ATTEMPT_NANOS = Duration.ofMillis(1).toNanos();
  static final long TIMEOUT_CHECK_MILLIS = 10;

  public interface Command {}

  /** Ask a worker of {@code policyId} for the hash of {@code payload}. */
  public record Route(String srcid, String policyId, String payload, ActorRef<Reply> replyTo)
      implements Command {}

  public sealed interface Reply {}

  /** Worker {@code workerId} answered with {@code payloadHash}. */
  public record Served(String workerId, String payloadHash) implements Reply {}

  /** The request could not be served; {@code code} says why. */
  public record Rejected(ErrorCode code, String message) implements Reply {}

  /** A policy's listing, forwarded by its {@code subscriber} (see {@link #listingForwarder}). */
  private record ListingUpdated(
      ActorRef<Receptionist.Listing> subscriber, Receptionist.Listing listing) implements Command {}

  private enum LogStats implements Command {
    INSTANCE
  }

  private enum ForgetIdlePolicies implements Command {
    INSTANCE
  }

  /** A worker answered one of the attempts. */
  private record WorkerReplied(Routee.Reply reply) implements Command {}

  private enum CheckAttemptTimeouts implements Command {
    INSTANCE
  }

  /**
   * An attempt sent and not yet answered or timed out. It stays in its expiry queue until it
   * reaches the head, so {@link #finish} lets go of the attempt (and its payload) at once.
   */
  private static final class InFlight {
    final long requestId;
    final long expiresNanos;
    private Attempt attempt;

    InFlight(long requestId, Attempt attempt, long expiresNanos) {
      this.requestId = requestId;
      this.attempt = attempt;
      this.expiresNanos = expiresNanos;
    }

    boolean done() {
      return attempt == null;
    }

    Attempt finish() {
      Attempt finished = attempt;
      attempt = null;
      return finished;
    }
  }

  /**
   * A request on its way: the policy it is counted in, its try number, the routees it tried
   * directly, and where this attempt went ({@code target} is null when the group router chose).
   */
  private record Attempt(
      Policy policy,
      Route route,
      int number,
      long deadlineNanos,
      List<ActorRef<Routee.Command>> tried,
      ActorRef<Routee.Command> target) {}

  public static Behavior<Command> create(ProxySettings settings) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers -> {
                  if (!settings.statsInterval().isZero()) {
                    timers.startTimerWithFixedDelay(LogStats.INSTANCE, settings.statsInterval());
                  }
                  if (!settings.forgetPolicyAfter().isZero()) {
                    // Checked twice per period: a policy goes at most 1.5 periods after its use.
                    timers.startTimerWithFixedDelay(
                        ForgetIdlePolicies.INSTANCE, settings.forgetPolicyAfter().dividedBy(2));
                  }
                  return new RouterActor(context, timers, settings);
                }));
  }

  /** What happened since the last stats line. */
  private static final class Stats {
    long requests;
    long retries;
    long ejections;
    long timeouts;
    long unavailable;
    long noWorker;
    long forgotten;
  }

  /** What this actor knows of one policy. */
  private static final class Policy {
    final String id;
    final ServiceKey<Routee.Command> key;
    final ActorRef<Routee.Command> router;
    /** The child that subscribes to the key's listing; stopping it ends the subscription. */
    final ActorRef<Receptionist.Listing> subscriber;
    /** Requests of this policy not answered yet. */
    int pending;
    long lastRequestNanos;
    /** Requests that came before the first listing told whether the policy has workers. */
    final Queue<Attempt> awaitingListing = new ArrayDeque<>();
    /** Reachable routees, in path order; null until the first listing. */
    List<ActorRef<Routee.Command>> routees;
    final Map<ActorRef<Routee.Command>, Integer> failuresInARow = new HashMap<>();
    final Map<ActorRef<Routee.Command>, Long> ejectedUntilNanos = new HashMap<>();
    int nextDirect;

    Policy(
        String id,
        ServiceKey<Routee.Command> key,
        ActorRef<Routee.Command> router,
        ActorRef<Receptionist.Listing> subscriber) {
      this.id = id;
      this.key = key;
      this.router = router;
      this.subscriber = subscriber;
    }

    boolean idleWithoutWorkers(long now, long forgetAfterNanos) {
      return routees != null
          && routees.isEmpty()
          && pending == 0
          && now - lastRequestNanos >= forgetAfterNanos;
    }

    boolean ejected(ActorRef<Routee.Command> routee, long now) {
      Long until = ejectedUntilNanos.get(routee);
      if (until != null && until - now <= 0) {
        ejectedUntilNanos.remove(routee);
        return false;
      }
      return until != null;
    }

    boolean anyEjected(long now) {
      ejectedUntilNanos.values().removeIf(until -> until - now <= 0);
      return !ejectedUntilNanos.isEmpty();
    }

    /** The next routee round robin that is neither ejected nor already tried, or null. */
    ActorRef<Routee.Command> nextDirect(List<ActorRef<Routee.Command>> tried, long now) {
      for (int i = 0; i < routees.size(); i++) {
        ActorRef<Routee.Command> candidate =
            routees.get(Math.floorMod(nextDirect++, routees.size()));
        if (!tried.contains(candidate) && !ejected(candidate, now)) {
          return candidate;
        }
      }
      return null;
    }
  }

  private final TimerScheduler<Command> timers;
  private final Duration requestTimeout;
  private final long attemptTimeoutNanos;
  private final int maxAttempts;
  private final int maxPolicies;
  private final long forgetPolicyAfterNanos;
  private final int ejectAfterFailures;
  private final Duration ejectionTime;
  private final Map<String, Policy> policiesById = new HashMap<>();
  private final Map<String, Policy> policiesByKeyId = new HashMap<>();
  private final Duration statsInterval;
  private Stats stats = new Stats();
  private final ActorRef<Routee.Reply> workerReplies;
  private final Map<Long, InFlight> inFlight = new HashMap<>();
  /** Attempts with the full attempt timeout, in the order they expire (the order sent). */
  private final ArrayDeque<InFlight> expiring = new ArrayDeque<>();
  /** Attempts cut short by their request's deadline (rare): these need sorting. */
  private final PriorityQueue<InFlight> expiringEarly =
      new PriorityQueue<>(Comparator.comparingLong((InFlight f) -> f.expiresNanos));
  private long nextRequestId = ThreadLocalRandom.current().nextLong();
  private boolean checkingTimeouts;
  /** Policies tracked so far: makes each policy's child actor names unique. */
  private long policiesTracked;

  private RouterActor(
      ActorContext<Command> context, TimerScheduler<Command> timers, ProxySettings settings) {
    super(context);
    this.timers = timers;
    this.requestTimeout = settings.requestTimeout();
    this.attemptTimeoutNanos = settings.attemptTimeout().toNanos();
    this.maxAttempts = settings.maxAttempts();
    this.maxPolicies = settings.maxPolicies();
    this.forgetPolicyAfterNanos = settings.forgetPolicyAfter().toNanos();
    this.ejectAfterFailures = settings.ejectAfterFailures();
    this.ejectionTime = settings.ejectionTime();
    this.statsInterval = settings.statsInterval();
    this.workerReplies = context.messageAdapter(Routee.Reply.class, WorkerReplied::new);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Route.class, this::onRoute)
        .onMessage(ListingUpdated.class, this::onListingUpdated)
        .onMessage(WorkerReplied.class, this::onWorkerReplied)
        .onMessage(CheckAttemptTimeouts.class, this::onCheckAttemptTimeouts)
        .onMessage(LogStats.class, this::onLogStats)
        .onMessage(ForgetIdlePolicies.class, this::onForgetIdlePolicies)
        .build();
  }

  private Behavior<Command> onLogStats(LogStats log) {
    Stats last = stats;
    if (last.requests > 0 || last.ejections > 0 || last.forgotten > 0) {
      getContext()
          .getLog()
          .info(
              "Routing, last {} s: {} requests, {} retries, {} ejections, {} timed out, {} unavailable, {} without worker; {} policies tracked, {} forgotten",
              statsInterval.toSeconds(),
              last.requests,
              last.retries,
              last.ejections,
              last.timeouts,
              last.unavailable,
              last.noWorker,
              policiesById.size(),
              last.forgotten);
    }
    stats = new Stats();
    return this;
  }

  private Behavior<Command> onForgetIdlePolicies(ForgetIdlePolicies tick) {
    long now = System.nanoTime();
    List<Policy> idle = new ArrayList<>();
    for (Policy policy : policiesById.values()) {
      if (policy.idleWithoutWorkers(now, forgetPolicyAfterNanos)) {
        idle.add(policy);
      }
    }
    for (Policy policy : idle) {
      policiesById.remove(policy.id);
      policiesByKeyId.remove(policy.key.id());
      getContext().stop(policy.router);
      getContext().stop(policy.subscriber);
    }
    if (!idle.isEmpty()) {
      stats.forgotten += idle.size();
      getContext()
          .getLog()
          .debug("Forgot {} policies without workers, idle for {} ms", idle.size(), forgetPolicyAfterNanos / 1_000_000);
    }
    return this;
  }

  private Behavior<Command> onRoute(Route route) {
    stats.requests++;
    Policy policy = policiesById.get(route.policyId());
    if (policy == null) {
      if (policiesById.size() >= maxPolicies) {
        route
            .replyTo()
            .tell(
                new Rejected(
                    ErrorCode.TOO_MANY_POLICIES,
                    "the proxy already tracks "
                        + maxPolicies
                        + " policies (revproxy.proxy.max-policies)"));
        return this;
      }
      policy = track(route.policyId());
    }
    policy.pending++;
    policy.lastRequestNanos = System.nanoTime();
    Attempt first =
        new Attempt(policy, route, 1, System.nanoTime() + requestTimeout.toNanos(), List.of(), null);
    if (policy.routees == null) {
      policy.awaitingListing.add(first);
    } else {
      dispatch(policy, first);
    }
    return this;
  }

  private Policy track(String policyId) {
    ServiceKey<Routee.Command> key = Routee.serviceKey(policyId);
    // Numbered: a forgotten policy may be asked for again while its old children still stop.
    String name = URLEncoder.encode(policyId, StandardCharsets.UTF_8) + "-" + ++policiesTracked;
    ActorRef<Routee.Command> router =
        getContext().spawn(Routers.group(key).withRoundRobinRouting(), "policy-" + name);
    ActorRef<Receptionist.Listing> subscriber =
        getContext().spawn(listingForwarder(key, getContext().getSelf()), "listing-" + name);
    Policy policy = new Policy(policyId, key, router, subscriber);
    policiesById.put(policyId, policy);
    policiesByKeyId.put(key.id(), policy);
    return policy;
  }

  /**
   * Subscribes to one key's listing and forwards it. A child per policy, not a message adapter:
   * the receptionist of Akka 2.6 has no unsubscribe, a subscription ends when its subscriber stops.
   */
  private static Behavior<Receptionist.Listing> listingForwarder(
      ServiceKey<Routee.Command> key, ActorRef<Command> parent) {
    return Behaviors.setup(
        context -> {
          context.getSystem().receptionist().tell(Receptionist.subscribe(key, context.getSelf()));
          return Behaviors.receiveMessage(
              listing -> {
                parent.tell(new ListingUpdated(context.getSelf(), listing));
                return Behaviors.same();
              });
        });
  }

  /** Gives a request its final answer. */
  private static void answer(Policy policy, Route route, Reply reply) {
    policy.pending--;
    route.replyTo().tell(reply);
  }

  private void dispatch(Policy policy, Attempt attempt) {
    Route route = attempt.route();
    if (policy.routees.isEmpty()) {
      stats.noWorker++;
      answer(
          policy,
          route,
          new Rejected(
              ErrorCode.NO_WORKER_FOR_POLICY, "no worker serves policy \"" + policy.id + "\""));
      return;
    }
    long now = System.nanoTime();
    ActorRef<Routee.Command> target = null;
    if (attempt.number() > 1 || policy.anyEjected(now)) {
      target = policy.nextDirect(attempt.tried(), now);
    }
    ActorRef<Routee.Command> destination = target != null ? target : policy.router;
    // At least 1 ms: an attempt dispatched as its deadline passes still gets its chance.
    long timeoutNanos =
        Math.max(MIN_ATTEMPT_NANOS, Math.min(attemptTimeoutNanos, attempt.deadlineNanos() - now));
    long requestId = nextRequestId++;
    InFlight sent = new InFlight(requestId, withTarget(attempt, target), now + timeoutNanos);
    inFlight.put(requestId, sent);
    if (timeoutNanos == attemptTimeoutNanos) {
      expiring.addLast(sent);
    } else {
      expiringEarly.add(sent);
    }
    if (!checkingTimeouts) {
      checkingTimeouts = true;
      timers.startTimerWithFixedDelay(
          CheckAttemptTimeouts.INSTANCE, Duration.ofMillis(TIMEOUT_CHECK_MILLIS));
    }
    destination.tell(new Routee.Hash(requestId, route.srcid(), route.payload(), workerReplies));
  }

  private static Attempt withTarget(Attempt attempt, ActorRef<Routee.Command> target) {
    if (target == null) {
      return attempt;
    }
    List<ActorRef<Routee.Command>> tried = new ArrayList<>(attempt.tried());
    tried.add(target);
    return new Attempt(
        attempt.policy(), attempt.route(), attempt.number(), attempt.deadlineNanos(), tried, target);
  }

  private Behavior<Command> onListingUpdated(ListingUpdated updated) {
    Policy policy = policiesByKeyId.get(updated.listing().getKey().id());
    if (policy == null || !policy.subscriber.equals(updated.subscriber())) {
      return this; // from the subscriber of a policy forgotten since
    }
    List<ActorRef<Routee.Command>> routees =
        new ArrayList<>(updated.listing().getServiceInstances(policy.key));
    routees.sort(Comparator.comparing(routee -> routee.path().toString()));
    if (!routees.equals(policy.routees)) {
      getContext()
          .getLog()
          .info(
              "Policy {} is served by {} worker(s): {}",
              policy.id,
              routees.size(),
              routees.stream().map(routee -> routee.path().toString()).toList());
    }
    policy.routees = routees;
    policy.failuresInARow.keySet().retainAll(routees);
    policy.ejectedUntilNanos.keySet().retainAll(routees);
    while (!policy.awaitingListing.isEmpty()) {
      dispatch(policy, policy.awaitingListing.poll());
    }
    return this;
  }

  private Behavior<Command> onWorkerReplied(WorkerReplied replied) {
    InFlight answered = inFlight.remove(replied.reply().requestId());
    if (answered == null) {
      // Its attempt timed out already (and was retried or answered): too late to count.
      getContext().getLog().debug("Late reply dropped: {}", replied.reply());
      return this;
    }
    Attempt attempt = answered.finish();
    while (!expiring.isEmpty() && expiring.peekFirst().done()) {
      expiring.pollFirst();
    }
    attemptEnded(attempt, replied.reply());
    return this;
  }

  private Behavior<Command> onCheckAttemptTimeouts(CheckAttemptTimeouts check) {
    long now = System.nanoTime();
    expire(expiring, now);
    expire(expiringEarly, now);
    if (inFlight.isEmpty()) {
      timers.cancel(CheckAttemptTimeouts.INSTANCE);
      checkingTimeouts = false;
      expiring.clear();
      expiringEarly.clear();
    }
    return this;
  }

  /** Ends the attempts of {@code queue} that expired by {@code now}, as timed out. */
  private void expire(Queue<InFlight> queue, long now) {
    while (!queue.isEmpty() && queue.peek().expiresNanos - now <= 0) {
      InFlight expired = queue.poll();
      if (!expired.done()) {
        inFlight.remove(expired.requestId);
        attemptEnded(expired.finish(), null);
      }
    }
  }

  /** One attempt ended: {@code reply} is null when it timed out. */
  private void attemptEnded(Attempt attempt, Routee.Reply reply) {
    Route route = attempt.route();
    Policy policy = attempt.policy();
    if (reply instanceof Routee.Hashed hashed) {
      if (attempt.target() != null) {
        policy.failuresInARow.remove(attempt.target());
      }
      answer(policy, route, new Served(hashed.workerId(), hashed.payloadHash()));
      return;
    }
    // Only silence counts against a routee: "unavailable" comes from a backend that is busy, or
    // down and about to leave the listing by itself, and neither is a reason to eject it.
    if (attempt.target() != null && reply == null) {
      countFailure(policy, attempt.target());
    }
    boolean timeLeft = attempt.deadlineNanos() - System.nanoTime() > 0;
    if (attempt.number() < maxAttempts && timeLeft) {
      stats.retries++;
      getContext()
          .getLog()
          .debug("Attempt {} for policy {} failed ({}); retrying", attempt.number(), policy.id, reply);
      dispatch(
          policy,
          new Attempt(
              policy, attempt.route(), attempt.number() + 1, attempt.deadlineNanos(), attempt.tried(), null));
    } else if (reply instanceof Routee.Unavailable unavailable) {
      stats.unavailable++;
      answer(
          policy,
          route,
          new Rejected(
              ErrorCode.WORKER_UNAVAILABLE,
              "no worker of policy \""
                  + policy.id
                  + "\" could serve the request after "
                  + attempt.number()
                  + " attempt(s); last: "
                  + unavailable.reason()));
    } else {
      stats.timeouts++;
      answer(
          policy,
          route,
          new Rejected(
              ErrorCode.TIMEOUT,
              "no worker of policy \""
                  + policy.id
                  + "\" answered within "
                  + requestTimeout.toMillis()
                  + " ms ("
                  + attempt.number()
                  + " attempt(s))"));
    }
  }

  private void countFailure(Policy policy, ActorRef<Routee.Command> routee) {
    int failures = policy.failuresInARow.merge(routee, 1, Integer::sum);
    if (failures >= ejectAfterFailures && !policy.ejectedUntilNanos.containsKey(routee)) {
      policy.ejectedUntilNanos.put(routee, System.nanoTime() + ejectionTime.toNanos());
      stats.ejections++;
      policy.failuresInARow.remove(routee);
      getContext()
          .getLog()
          .warn(
              "Ejecting {} from policy {} for {} ms after {} failed attempts in a row",
              routee.path(),
              policy.id,
              ejectionTime.toMillis(),
              failures);
    }
  }
}
