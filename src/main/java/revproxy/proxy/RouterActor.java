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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import revproxy.ops.Metrics;
import revproxy.ops.ProxyMetrics;
import revproxy.protocol.ErrorCode;
import revproxy.routee.Routee;

/**
 * Routes each request to a routee of its policy, round robin.
 *
 * <p>Per policy ({@link Policy}) it keeps one group router, {@code
 * Routers.group(key).withRoundRobinRouting()}, the path of every first attempt, and its own
 * subscription to the policy's listing, so that a policy without workers is answered {@code
 * no_worker_for_policy} at once (the group router would drop the message). {@link PolicyRoutees}
 * knows whom the group router picks, so every attempt's routee is known: a routee that keeps
 * failing is ejected, and a retry goes to a routee not tried yet, on another node if there is one.
 * An attempt that times out, or that its routee answers {@link Routee.Unavailable}, is retried
 * (hashing is idempotent), at most {@code max-attempts} times within {@code request-timeout}.
 *
 * <p>Each attempt is a {@code tell} with a request id that the reply carries back ({@link
 * InFlightAttempts}), not an ask. Request ids start at a random number in each incarnation of this
 * actor, so a late reply to an attempt of an earlier one matches nothing.
 *
 * <p>At most {@code max-policies} policies are tracked; one without workers and without requests
 * for {@code forget-policy-after} is forgotten, so made-up policy ids cannot use up the slots.
 */
public final class RouterActor extends AbstractBehavior<RouterActor.Command> {

  private static final long MIN_ATTEMPT_NANOS = Duration.ofMillis(1).toNanos();
  static final Duration TIMEOUT_CHECK = Duration.ofMillis(10);

  public interface Command {}

  /** Ask a routee of {@code policyId} for the hash of {@code payload}. */
  public record Route(String srcid, String policyId, String payload, ActorRef<Reply> replyTo)
      implements Command {}

  public sealed interface Reply {}

  /** Worker {@code workerId} answered with {@code payloadHash}. */
  public record Served(String workerId, String payloadHash) implements Reply {}

  /** The request could not be served; {@code code} says why. */
  public record Rejected(ErrorCode code, String message) implements Reply {}

  /** Answered with every policy and its routees, for the management endpoint's /routing. */
  public record GetRouting(ActorRef<RoutingTable> replyTo) implements Command {}

  /** A policy's listing, forwarded by its {@code subscriber} ({@link ListingForwarder}). */
  private record ListingUpdated(
      ActorRef<Receptionist.Listing> subscriber, Receptionist.Listing listing) implements Command {}

  private record RouteeReplied(Routee.Reply reply) implements Command {}

  private enum Tick implements Command {
    CHECK_TIMEOUTS,
    FORGET_IDLE_POLICIES
  }

  public static Behavior<Command> create(ProxySettings settings) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers -> {
                  if (!settings.forgetPolicyAfter().isZero()) {
                    // Checked twice per period: a policy goes at most 1.5 periods after its use.
                    timers.startTimerWithFixedDelay(
                        Tick.FORGET_IDLE_POLICIES, settings.forgetPolicyAfter().dividedBy(2));
                  }
                  return new RouterActor(context, timers, settings);
                }));
  }

  private final TimerScheduler<Command> timers;
  private final ProxySettings settings;
  private final long attemptTimeoutNanos;
  private final PolicyTable policies = new PolicyTable();
  private final ActorRef<Routee.Reply> replies;
  private final InFlightAttempts inFlight;
  private final ProxyMetrics metrics;
  /** Policies with attempts out: their routees are checked for outliers on every tick. */
  private final Set<Policy> busy = new LinkedHashSet<>();
  private long nextRequestId = ThreadLocalRandom.current().nextLong();
  /** Policies tracked so far: makes each policy's child actor names unique. */
  private long policiesTracked;

  private RouterActor(
      ActorContext<Command> context, TimerScheduler<Command> timers, ProxySettings settings) {
    super(context);
    this.timers = timers;
    this.settings = settings;
    this.attemptTimeoutNanos = settings.attemptTimeout().toNanos();
    this.inFlight = new InFlightAttempts(attemptTimeoutNanos);
    this.replies = context.messageAdapter(Routee.Reply.class, RouteeReplied::new);
    this.metrics = Metrics.get(context.getSystem()).proxy();
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Route.class, this::onRoute)
        .onMessage(ListingUpdated.class, this::onListingUpdated)
        .onMessage(RouteeReplied.class, this::onRouteeReplied)
        .onMessageEquals(Tick.CHECK_TIMEOUTS, this::onCheckTimeouts)
        .onMessage(GetRouting.class, this::onGetRouting)
        .onMessageEquals(Tick.FORGET_IDLE_POLICIES, this::onForgetIdlePolicies)
        .build();
  }

  private Behavior<Command> onRoute(Route route) {
    long now = System.nanoTime();
    Policy policy = policies.get(route.policyId());
    if (policy == null) {
      if (policies.size() >= settings.maxPolicies()) {
        Rejected rejected = Rejections.tooManyPolicies(settings.maxPolicies());
        metrics.unserved().rejected(rejected.code(), 0);
        route.replyTo().tell(rejected);
        return this;
      }
      policy = track(route.policyId());
    }
    policy.pending++;
    policy.lastRequestNanos = now;
    Attempt first = Attempt.first(policy, route, now, now + settings.requestTimeout().toNanos());
    if (policy.routees.listed()) {
      dispatch(first);
    } else {
      policy.awaitingListing.add(first);
    }
    return this;
  }

  private Policy track(String policyId) {
    ServiceKey<Routee.Command> key = Routee.serviceKey(policyId);
    // Numbered: a forgotten policy may be asked for again while its old children still stop.
    String name = URLEncoder.encode(policyId, StandardCharsets.UTF_8) + "-" + ++policiesTracked;
    Policy policy =
        new Policy(
            policyId,
            key,
            getContext().spawn(Routers.group(key).withRoundRobinRouting(), "policy-" + name),
            getContext()
                .spawn(
                    ListingForwarder.create(key, getContext().getSelf(), ListingUpdated::new),
                    "listing-" + name),
            new PolicyRoutees(settings.outlier(), attemptTimeoutNanos),
            metrics.unserved());
    policies.add(policy);
    return policy;
  }

  private Behavior<Command> onListingUpdated(ListingUpdated updated) {
    Policy policy = policies.byKeyId(updated.listing().getKey().id());
    if (policy == null || !policy.subscriber.equals(updated.subscriber())) {
      return this; // from the subscriber of a policy forgotten since
    }
    if (policy.routees.update(updated.listing().getServiceInstances(policy.key), System.nanoTime())) {
      if (policy.metrics == metrics.unserved() && !policy.routees.isEmpty()) {
        policy.metrics = metrics.forPolicy(policy.id);
      }
      policy.metrics.workers(policy.routees.routees().size());
      getContext()
          .getLog()
          .info(
              "Policy {} is served by {} routee(s): {}",
              policy.id,
              policy.routees.routees().size(),
              policy.routees.routees().stream().map(routee -> routee.path().toString()).toList());
    }
    while (!policy.awaitingListing.isEmpty()) {
      dispatch(policy.awaitingListing.poll());
    }
    return this;
  }

  /** Sends an attempt: a first one through the group router when it may, else directly. */
  private void dispatch(Attempt attempt) {
    Policy policy = attempt.policy();
    if (policy.routees.isEmpty()) {
      answer(attempt, Rejections.noWorker(policy.id));
      return;
    }
    long now = System.nanoTime();
    Attempt sent = policy.routees.choose(attempt, now);
    ActorRef<Routee.Command> destination =
        sent.groupSend() != null ? policy.groupRouter : sent.target();
    // At least 1 ms: an attempt dispatched as its deadline passes still gets its chance.
    long timeoutNanos =
        Math.max(MIN_ATTEMPT_NANOS, Math.min(attemptTimeoutNanos, attempt.deadlineNanos() - now));
    long requestId = nextRequestId++;
    if (inFlight.isEmpty()) {
      timers.startTimerWithFixedDelay(Tick.CHECK_TIMEOUTS, TIMEOUT_CHECK);
    }
    inFlight.add(requestId, sent, now, timeoutNanos);
    policy.routees.sent(sent.target(), now);
    busy.add(policy);
    Route route = attempt.route();
    destination.tell(new Routee.Hash(requestId, route.srcid(), route.payload(), replies));
  }

  private Behavior<Command> onRouteeReplied(RouteeReplied replied) {
    Attempt attempt = inFlight.answered(replied.reply().requestId());
    if (attempt == null) {
      // Its attempt timed out already (and was retried or answered): too late to count.
      getContext().getLog().debug("Late reply dropped: {}", replied.reply());
      return this;
    }
    attemptEnded(attempt, replied.reply());
    return this;
  }

  private Behavior<Command> onCheckTimeouts() {
    long now = System.nanoTime();
    for (Attempt expired : inFlight.expire(now)) {
      attemptEnded(expired, null);
    }
    for (Policy policy : List.copyOf(busy)) {
      if (policy.pending == 0) {
        busy.remove(policy);
        continue;
      }
      for (ActorRef<Routee.Command> outlier : policy.routees.overdue(now)) {
        if (policy.routees.eject(outlier, now)) {
          ejected(policy, outlier, "no reply for " + policy.routees.overdueNanos() / 1_000_000 + " ms");
        }
      }
    }
    if (inFlight.isEmpty()) {
      timers.cancel(Tick.CHECK_TIMEOUTS);
    }
    return this;
  }

  /** {@code routee} was ejected: its attempts in flight are retried elsewhere now. */
  private void ejected(Policy policy, ActorRef<Routee.Command> routee, String why) {
    policy.metrics.ejected();
    getContext().getLog().warn("Ejecting {} from policy {}: {}", routee.path(), policy.id, why);
    for (Attempt abandoned : inFlight.removeSentTo(routee)) {
      attemptEnded(abandoned, null);
    }
  }

  /** One attempt ended: {@code reply} is null when it timed out. */
  private void attemptEnded(Attempt attempt, Routee.Reply reply) {
    Policy policy = attempt.policy();
    PolicyRoutees routees = policy.routees;
    long now = System.nanoTime();
    routees.ended(attempt.target());
    if (reply instanceof Routee.Hashed hashed) {
      routees.replied(
          attempt.target(), attempt.groupSend(), hashed.workerId(), true, attempt.sentNanos(), now);
      answer(attempt, new Served(hashed.workerId(), hashed.payloadHash()));
      return;
    }
    if (reply instanceof Routee.Unavailable unavailable) {
      // "Unavailable" comes from a routee that is busy, or down and about to leave the listing
      // by itself: no reason to eject it.
      routees.replied(
          attempt.target(),
          attempt.groupSend(),
          unavailable.workerId(),
          false,
          attempt.sentNanos(),
          now);
    } else if (routees.timedOut(attempt.target(), now)) {
      ejected(policy, attempt.target(), "attempts timed out in a row");
    }
    if (attempt.number() < settings.maxAttempts() && attempt.deadlineNanos() - System.nanoTime() > 0) {
      attempt.policy().metrics.retried();
      dispatch(attempt.next());
    } else if (reply instanceof Routee.Unavailable unavailable) {
      answer(
          attempt,
          Rejections.unavailable(attempt.policy().id, attempt.number(), unavailable.reason()));
    } else {
      answer(
          attempt,
          Rejections.timeout(attempt.policy().id, settings.requestTimeout(), attempt.number()));
    }
  }

  /** Gives a request its final answer, and counts it. */
  private static void answer(Attempt attempt, Reply reply) {
    Policy policy = attempt.policy();
    policy.pending--;
    long nanos = System.nanoTime() - attempt.startNanos();
    if (reply instanceof Rejected rejected) {
      policy.metrics.rejected(rejected.code(), nanos);
    } else {
      policy.metrics.served(nanos);
    }
    attempt.route().replyTo().tell(reply);
  }

  private Behavior<Command> onGetRouting(GetRouting get) {
    get.replyTo()
        .tell(RoutingTable.of(policies.all(), System.nanoTime(), getContext().getSystem().address()));
    return this;
  }

  private Behavior<Command> onForgetIdlePolicies() {
    List<Policy> idle =
        policies.removeIdle(System.nanoTime(), settings.forgetPolicyAfter().toNanos());
    for (Policy policy : idle) {
      getContext().stop(policy.groupRouter);
      getContext().stop(policy.subscriber);
      if (policy.metrics != metrics.unserved()) {
        metrics.forget(policy.id);
      }
    }
    return this;
  }
}
