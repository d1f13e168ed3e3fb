package revproxy.proxy;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.Routers;
import akka.actor.typed.receptionist.Receptionist;
import akka.actor.typed.receptionist.ServiceKey;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.TreeSet;
import revproxy.protocol.ErrorCode;
import revproxy.worker.HashWorker;

/**
 * Routes each request to a worker of its policy, round robin.
 *
 * <p>Per policy it keeps one group router ({@code Routers.group(key).withRoundRobinRouting()}),
 * created when the policy is first asked for, and its own subscription to the policy's receptionist
 * listing. The router alone would silently drop a message when a policy has no worker; the listing
 * lets this actor answer {@code no_worker_for_policy} at once instead.
 *
 * <p>An attempt that times out, or that the routee answers {@link HashWorker.Unavailable}, is sent
 * again through the router, so to the next routee: hashing is idempotent. At most {@code
 * max-attempts} attempts, all within {@code request-timeout}.
 */
public final class RouterActor extends AbstractBehavior<RouterActor.Command> {

  public interface Command {}

  /** Ask a worker of {@code policyId} for the hash of {@code payload}. */
  public record Route(String srcid, String policyId, String payload, ActorRef<Reply> replyTo)
      implements Command {}

  public sealed interface Reply {}

  /** Worker {@code workerId} answered with {@code payloadHash}. */
  public record Served(String workerId, String payloadHash) implements Reply {}

  /** The request could not be served; {@code code} says why. */
  public record Rejected(ErrorCode code, String message) implements Reply {}

  private record ListingUpdated(Receptionist.Listing listing) implements Command {}

  /** One attempt ended: {@code reply} is null when it timed out. */
  private record AttemptEnded(Attempt attempt, HashWorker.Reply reply) implements Command {}

  /** A request on its way, and how many tries it has had. */
  private record Attempt(Route route, int number, long deadlineNanos) {
    Attempt next() {
      return new Attempt(route, number + 1, deadlineNanos);
    }
  }

  public static Behavior<Command> create(ProxySettings settings) {
    return Behaviors.setup(context -> new RouterActor(context, settings));
  }

  /** What this actor knows of one policy. */
  private static final class Policy {
    final String id;
    final ServiceKey<HashWorker.Command> key;
    final ActorRef<HashWorker.Command> router;
    /** Requests that came before the first listing told whether the policy has workers. */
    final Queue<Attempt> awaitingListing = new ArrayDeque<>();
    Set<String> workers;

    Policy(String id, ServiceKey<HashWorker.Command> key, ActorRef<HashWorker.Command> router) {
      this.id = id;
      this.key = key;
      this.router = router;
    }
  }

  private final Duration requestTimeout;
  private final Duration attemptTimeout;
  private final int maxAttempts;
  private final int maxPolicies;
  private final Map<String, Policy> policiesById = new HashMap<>();
  private final Map<String, Policy> policiesByKeyId = new HashMap<>();
  private final ActorRef<Receptionist.Listing> listingAdapter;

  private RouterActor(ActorContext<Command> context, ProxySettings settings) {
    super(context);
    this.requestTimeout = settings.requestTimeout();
    this.attemptTimeout = settings.attemptTimeout();
    this.maxAttempts = settings.maxAttempts();
    this.maxPolicies = settings.maxPolicies();
    this.listingAdapter =
        context.messageAdapter(Receptionist.Listing.class, ListingUpdated::new);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Route.class, this::onRoute)
        .onMessage(ListingUpdated.class, this::onListingUpdated)
        .onMessage(AttemptEnded.class, this::onAttemptEnded)
        .build();
  }

  private Behavior<Command> onRoute(Route route) {
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
    Attempt first = new Attempt(route, 1, System.nanoTime() + requestTimeout.toNanos());
    if (policy.workers == null) {
      policy.awaitingListing.add(first);
    } else {
      dispatch(policy, first);
    }
    return this;
  }

  private Policy track(String policyId) {
    ServiceKey<HashWorker.Command> key = HashWorker.serviceKey(policyId);
    ActorRef<HashWorker.Command> router =
        getContext()
            .spawn(
                Routers.group(key).withRoundRobinRouting(),
                "policy-" + URLEncoder.encode(policyId, StandardCharsets.UTF_8));
    Policy policy = new Policy(policyId, key, router);
    policiesById.put(policyId, policy);
    policiesByKeyId.put(key.id(), policy);
    getContext().getSystem().receptionist().tell(Receptionist.subscribe(key, listingAdapter));
    return policy;
  }

  private void dispatch(Policy policy, Attempt attempt) {
    Route route = attempt.route();
    if (policy.workers.isEmpty()) {
      route
          .replyTo()
          .tell(
              new Rejected(
                  ErrorCode.NO_WORKER_FOR_POLICY,
                  "no worker serves policy \"" + policy.id + "\""));
      return;
    }
    long remainingNanos = attempt.deadlineNanos() - System.nanoTime();
    Duration timeout = Duration.ofNanos(Math.min(attemptTimeout.toNanos(), remainingNanos));
    getContext()
        .ask(
            HashWorker.Reply.class,
            policy.router,
            timeout,
            workerReplyTo -> new HashWorker.Hash(route.srcid(), route.payload(), workerReplyTo),
            (reply, failure) -> new AttemptEnded(attempt, reply));
  }

  private Behavior<Command> onListingUpdated(ListingUpdated updated) {
    Policy policy = policiesByKeyId.get(updated.listing().getKey().id());
    if (policy == null) {
      return this;
    }
    Set<String> workers = new TreeSet<>();
    for (ActorRef<HashWorker.Command> worker :
        updated.listing().getServiceInstances(policy.key)) {
      workers.add(worker.path().toString());
    }
    if (!workers.equals(policy.workers)) {
      getContext()
          .getLog()
          .info("Policy {} is served by {} worker(s): {}", policy.id, workers.size(), workers);
    }
    policy.workers = workers;
    while (!policy.awaitingListing.isEmpty()) {
      dispatch(policy, policy.awaitingListing.poll());
    }
    return this;
  }

  private Behavior<Command> onAttemptEnded(AttemptEnded ended) {
    Attempt attempt = ended.attempt();
    ActorRef<Reply> replyTo = attempt.route().replyTo();
    if (ended.reply() instanceof HashWorker.Hashed hashed) {
      replyTo.tell(new Served(hashed.workerId(), hashed.payloadHash()));
      return this;
    }
    Policy policy = policiesById.get(attempt.route().policyId());
    boolean timeLeft = attempt.deadlineNanos() - System.nanoTime() > 0;
    if (attempt.number() < maxAttempts && timeLeft) {
      getContext()
          .getLog()
          .debug("Attempt {} for policy {} failed ({}); retrying", attempt.number(), policy.id, ended.reply());
      dispatch(policy, attempt.next());
    } else if (ended.reply() instanceof HashWorker.Unavailable unavailable) {
      replyTo.tell(
          new Rejected(
              ErrorCode.WORKER_UNAVAILABLE,
              "no worker of policy \""
                  + policy.id
                  + "\" could serve the request after "
                  + attempt.number()
                  + " attempt(s); last: "
                  + unavailable.reason()));
    } else {
      replyTo.tell(
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
    return this;
  }
}
