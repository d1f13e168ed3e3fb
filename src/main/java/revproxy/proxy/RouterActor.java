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
 */
public final class RouterActor extends AbstractBehavior<RouterActor.Command> {

  public interface Command {}

  /** Ask a worker of {@code policyId} for the hash of {@code payload}. */
  public record Route(String policyId, String payload, ActorRef<Reply> replyTo)
      implements Command {}

  public sealed interface Reply {}

  /** Worker {@code workerId} answered with {@code payloadHash}. */
  public record Served(String workerId, String payloadHash) implements Reply {}

  /** The request could not be served; {@code code} says why. */
  public record Rejected(ErrorCode code, String message) implements Reply {}

  private record ListingUpdated(Receptionist.Listing listing) implements Command {}

  private record WorkerAnswered(HashWorker.Hashed hashed, ActorRef<Reply> replyTo)
      implements Command {}

  private record WorkerTimedOut(String policyId, ActorRef<Reply> replyTo) implements Command {}

  public static Behavior<Command> create(ProxySettings settings) {
    return Behaviors.setup(context -> new RouterActor(context, settings));
  }

  /** What this actor knows of one policy. */
  private static final class Policy {
    final String id;
    final ServiceKey<HashWorker.Command> key;
    final ActorRef<HashWorker.Command> router;
    /** Requests that came before the first listing told whether the policy has workers. */
    final Queue<Route> awaitingListing = new ArrayDeque<>();
    Set<String> workers;

    Policy(String id, ServiceKey<HashWorker.Command> key, ActorRef<HashWorker.Command> router) {
      this.id = id;
      this.key = key;
      this.router = router;
    }
  }

  private final Duration requestTimeout;
  private final int maxPolicies;
  private final Map<String, Policy> policiesById = new HashMap<>();
  private final Map<String, Policy> policiesByKeyId = new HashMap<>();
  private final ActorRef<Receptionist.Listing> listingAdapter;

  private RouterActor(ActorContext<Command> context, ProxySettings settings) {
    super(context);
    this.requestTimeout = settings.requestTimeout();
    this.maxPolicies = settings.maxPolicies();
    this.listingAdapter =
        context.messageAdapter(Receptionist.Listing.class, ListingUpdated::new);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Route.class, this::onRoute)
        .onMessage(ListingUpdated.class, this::onListingUpdated)
        .onMessage(WorkerAnswered.class, this::onWorkerAnswered)
        .onMessage(WorkerTimedOut.class, this::onWorkerTimedOut)
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
    if (policy.workers == null) {
      policy.awaitingListing.add(route);
    } else {
      dispatch(policy, route);
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

  private void dispatch(Policy policy, Route route) {
    if (policy.workers.isEmpty()) {
      route
          .replyTo()
          .tell(
              new Rejected(
                  ErrorCode.NO_WORKER_FOR_POLICY,
                  "no worker serves policy \"" + policy.id + "\""));
      return;
    }
    ActorRef<Reply> replyTo = route.replyTo();
    getContext()
        .ask(
            HashWorker.Hashed.class,
            policy.router,
            requestTimeout,
            workerReplyTo -> new HashWorker.Hash(route.payload(), workerReplyTo),
            (hashed, failure) ->
                hashed != null
                    ? new WorkerAnswered(hashed, replyTo)
                    : new WorkerTimedOut(policy.id, replyTo));
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

  private Behavior<Command> onWorkerAnswered(WorkerAnswered answered) {
    answered
        .replyTo()
        .tell(new Served(answered.hashed().workerId(), answered.hashed().payloadHash()));
    return this;
  }

  private Behavior<Command> onWorkerTimedOut(WorkerTimedOut timedOut) {
    timedOut
        .replyTo()
        .tell(
            new Rejected(
                ErrorCode.TIMEOUT,
                "no worker of policy \""
                    + timedOut.policyId()
                    + "\" answered within "
                    + requestTimeout.toMillis()
                    + " ms"));
    return this;
  }
}
