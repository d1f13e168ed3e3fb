package revproxy.proxy;

import akka.actor.DeadLetterSuppression;
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
import java.util.List;
import java.util.concurrent.TimeUnit;
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
 * failing is ejected ({@link OutlierDetector}), and a retry goes to a routee not tried yet, on
 * another node if there is one.
 *
 * <p>This actor handles the messages; plain classes do the rest. {@link AttemptDispatcher} sends
 * each attempt (a {@code tell} with a request id, several in one message to a node when it can) and
 * {@link AttemptOutcomes} serves, retries or rejects the request when an attempt ends: one that
 * times out, or that its routee answers {@link Routee.Unavailable}, is retried, at most {@code
 * max-attempts} times within {@code request-timeout}.
 *
 * <p>At most {@code max-policies} policies are tracked; one without workers and without requests
 * for {@code forget-policy-after} is forgotten, so made-up policy ids cannot use up the slots.
 */
public final class RouterActor extends AbstractBehavior<RouterActor.Command> {

  static final Duration TIMEOUT_CHECK = Duration.ofMillis(10);

  public interface Command {}

  /**
   * Ask a routee of {@code policyId} for the hash of {@code payload}. The reply carries {@code tag}
   * back, so that one sender can have many requests out at once (a client connection's stage does,
   * without an ask per request).
   */
  public record Route(
      long tag, String srcid, String policyId, String payload, ActorRef<Reply> replyTo)
      implements Command {

    /** A request with tag 0, for a sender that has one out at a time. */
    public Route(String srcid, String policyId, String payload, ActorRef<Reply> replyTo) {
      this(0, srcid, policyId, payload, replyTo);
    }
  }

  /**
   * The final answer to a {@link Route}. One for a client that has gone meanwhile is dropped
   * without a dead-letter log line: that happens whenever a client disconnects mid-request.
   */
  public sealed interface Reply extends DeadLetterSuppression {
    /** The {@link Route#tag()} this answers. */
    long tag();

    /** This answer for the request tagged {@code tag}. */
    Reply withTag(long tag);
  }

  /** Worker {@code workerId} answered with {@code payloadHash}. */
  public record Served(long tag, String workerId, String payloadHash) implements Reply {
    public Served(String workerId, String payloadHash) {
      this(0, workerId, payloadHash);
    }

    @Override
    public Served withTag(long tag) {
      return new Served(tag, workerId, payloadHash);
    }
  }

  /** The request could not be served; {@code code} says why. */
  public record Rejected(long tag, ErrorCode code, String message) implements Reply {
    public Rejected(ErrorCode code, String message) {
      this(0, code, message);
    }

    @Override
    public Rejected withTag(long tag) {
      return new Rejected(tag, code, message);
    }
  }

  /** Answered with every policy and its routees, for the management endpoint's /routing. */
  public record GetRouting(ActorRef<RoutingTable> replyTo) implements Command {}

  /** A policy's listing, forwarded by its {@code subscriber} ({@link ListingForwarder}). */
  private record ListingUpdated(
      ActorRef<Receptionist.Listing> subscriber, Receptionist.Listing listing) implements Command {}

  private record RouteeReplied(Routee.Reply reply) implements Command {}

  /** The {@code no-worker-grace} of {@code policy} may be over: also the timer's key. */
  private record GraceOver(Policy policy) implements Command {}

  private enum Tick implements Command {
    CHECK_TIMEOUTS,
    FORGET_IDLE_POLICIES,
    /** Sends the {@link Outbox}: the requests that came in one run of the mailbox are held. */
    FLUSH
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
  private final PolicyTable policies = new PolicyTable();
  private final ProxyMetrics metrics;
  private final AttemptDispatcher dispatcher;
  private final AttemptOutcomes outcomes;

  /** Policies tracked so far: makes each policy's child actor names unique. */
  private long policiesTracked;

  private RouterActor(
      ActorContext<Command> context, TimerScheduler<Command> timers, ProxySettings settings) {
    super(context);
    this.timers = timers;
    this.settings = settings;
    this.metrics = Metrics.get(context.getSystem()).proxy();
    this.dispatcher =
        new AttemptDispatcher(
            settings,
            context.messageAdapter(Routee.Reply.class, RouteeReplied::new),
            () -> timers.startTimerWithFixedDelay(Tick.CHECK_TIMEOUTS, TIMEOUT_CHECK),
            () -> context.getSelf().tell(Tick.FLUSH),
            this::endGraceLater);
    this.outcomes = new AttemptOutcomes(settings, dispatcher, context::getLog);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Route.class, this::onRoute)
        .onMessage(ListingUpdated.class, this::onListingUpdated)
        .onMessage(RouteeReplied.class, this::onRouteeReplied)
        .onMessageEquals(Tick.FLUSH, this::onFlush)
        .onMessageEquals(Tick.CHECK_TIMEOUTS, this::onCheckTimeouts)
        .onMessage(GetRouting.class, this::onGetRouting)
        .onMessageEquals(Tick.FORGET_IDLE_POLICIES, this::onForgetIdlePolicies)
        .onMessage(GraceOver.class, this::onGraceOver)
        .build();
  }

  private Behavior<Command> onRoute(Route route) {
    long now = System.nanoTime();
    Policy policy = policies.get(route.policyId());
    if (policy == null) {
      if (policies.size() >= settings.maxPolicies()) {
        Rejected rejected = Rejections.tooManyPolicies(settings.maxPolicies());
        metrics.unserved().rejected(rejected.code(), 0);
        route.replyTo().tell(rejected.withTag(route.tag()));
        return this;
      }
      policy = track(route.policyId());
    }
    policy.pending++;
    policy.lastRequestNanos = now;
    Attempt first = Attempt.first(policy, route, now, now + settings.requestTimeout().toNanos());
    if (policy.routees.listed()) {
      dispatcher.dispatch(first);
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
            new OutlierDetector(settings.outlier(), settings.attemptTimeout().toNanos()),
            metrics.unserved());
    policies.add(policy);
    return policy;
  }

  private Behavior<Command> onListingUpdated(ListingUpdated updated) {
    // Held attempts are laid out for the routees they were dispatched among.
    dispatcher.flush();
    Policy policy = policies.byKeyId(updated.listing().getKey().id());
    if (policy == null || !policy.subscriber.equals(updated.subscriber())) {
      return this; // from the subscriber of a policy forgotten since
    }
    if (policy.routees.update(
        updated.listing().getServiceInstances(policy.key), System.nanoTime())) {
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
      dispatcher.dispatch(policy.awaitingListing.poll());
    }
    if (!policy.routees.isEmpty() && !policy.awaitingRoutee.isEmpty()) {
      timers.cancel(new GraceOver(policy));
      List<Attempt> held = List.copyOf(policy.awaitingRoutee);
      policy.awaitingRoutee.clear();
      held.forEach(dispatcher::dispatch);
    }
    return this;
  }

  /** Ends {@code policy}'s wait for a routee when its {@code no-worker-grace} is over. */
  private void endGraceLater(Policy policy) {
    long left =
        policy.routees.emptiedGraceEnds(settings.noWorkerGrace().toNanos()) - System.nanoTime();
    timers.startSingleTimer(
        new GraceOver(policy), Duration.ofNanos(Math.max(left, TimeUnit.MILLISECONDS.toNanos(1))));
  }

  private Behavior<Command> onGraceOver(GraceOver over) {
    Policy policy = over.policy();
    if (policy.awaitingRoutee.isEmpty()) {
      return this;
    }
    if (policy.routees.emptiedWithin(System.nanoTime(), settings.noWorkerGrace().toNanos())) {
      endGraceLater(policy); // emptied again since: a new grace
      return this;
    }
    getContext()
        .getLog()
        .warn(
            "Policy {}: no routee listed within no-worker-grace ({} ms) of its last leaving;"
                + " answering {} waiting request(s) no_worker_for_policy",
            policy.id,
            settings.noWorkerGrace().toMillis(),
            policy.awaitingRoutee.size());
    List<Attempt> held = List.copyOf(policy.awaitingRoutee);
    policy.awaitingRoutee.clear();
    held.forEach(dispatcher::dispatch);
    return this;
  }

  private Behavior<Command> onFlush() {
    dispatcher.flush();
    return this;
  }

  private Behavior<Command> onRouteeReplied(RouteeReplied replied) {
    outcomes.replied(replied.reply());
    return this;
  }

  private Behavior<Command> onCheckTimeouts() {
    outcomes.checkTimeouts(System.nanoTime());
    if (dispatcher.inFlight().isEmpty()) {
      timers.cancel(Tick.CHECK_TIMEOUTS);
    }
    return this;
  }

  private Behavior<Command> onGetRouting(GetRouting get) {
    get.replyTo()
        .tell(
            RoutingTable.of(policies.all(), System.nanoTime(), getContext().getSystem().address()));
    return this;
  }

  private Behavior<Command> onForgetIdlePolicies() {
    dispatcher.flush();
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
