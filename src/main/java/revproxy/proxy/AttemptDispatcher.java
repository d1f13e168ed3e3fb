package revproxy.proxy;

import akka.actor.typed.ActorRef;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import revproxy.routee.Routee;

/**
 * Sends attempts, and records each in flight ({@link InFlightAttempts}) until it ends.
 *
 * <p><b>Where</b>: a first attempt through its policy's group router when {@link PolicyRoutees}
 * lets it, else directly to the routee {@link PolicyRoutees} chooses. <b>How</b>: for a policy with
 * a routee on another node, an attempt through the group router or for a remote routee is held in
 * the {@link Outbox} until {@link #flush}, so that several go to one node in one message. The
 * router flushes at the end of a run of requests (a flush it asks for with {@code flushSoon}, which
 * comes after the requests already in its mailbox) and before anything else it handles.
 *
 * <p>Each attempt is a {@code tell} with a request id that the reply carries back, not an ask.
 * Request ids start at a random number in each incarnation of the router, so a late reply to an
 * attempt of an earlier one matches nothing.
 *
 * <p>Plain and single-threaded: it lives inside the {@code RouterActor}, which gives it the adapter
 * routees reply to and what it schedules: {@code startTimeoutChecks} when attempts are out again
 * after none was, {@code flushSoon} when it starts holding attempts, {@code holdingForRoutee} when
 * a policy starts holding requests for a routee (the router ends the wait at its grace).
 */
final class AttemptDispatcher {

  /** The shortest attempt: one dispatched as its deadline passes still gets its chance. */
  static final long MIN_ATTEMPT_NANOS = Duration.ofMillis(1).toNanos();

  private final long attemptTimeoutNanos;
  private final ActorRef<Routee.Reply> replies;
  private final Runnable startTimeoutChecks;
  private final Runnable flushSoon;
  private final long noWorkerGraceNanos;
  private final Consumer<Policy> holdingForRoutee;
  private final InFlightAttempts inFlight;

  /** Attempts for routees on other nodes, until the next {@link #flush}. */
  private final Outbox outbox;

  private final boolean batching;
  private boolean flushScheduled;
  private final Outbox.Sender outboxSender =
      new Outbox.Sender() {
        @Override
        public Routee.Hash sent(Attempt attempt) {
          return recordSent(attempt);
        }

        @Override
        public void tell(ActorRef<Routee.Command> to, Routee.Command message) {
          to.tell(message);
        }
      };

  /** Policies with attempts out: their routees are checked for outliers on every tick. */
  private final Set<Policy> busy = new LinkedHashSet<>();

  private long nextRequestId = ThreadLocalRandom.current().nextLong();

  AttemptDispatcher(
      ProxySettings settings,
      ActorRef<Routee.Reply> replies,
      Runnable startTimeoutChecks,
      Runnable flushSoon,
      Consumer<Policy> holdingForRoutee) {
    this.attemptTimeoutNanos = settings.attemptTimeout().toNanos();
    this.noWorkerGraceNanos = settings.noWorkerGrace().toNanos();
    this.holdingForRoutee = holdingForRoutee;
    this.replies = replies;
    this.startTimeoutChecks = startTimeoutChecks;
    this.flushSoon = flushSoon;
    this.inFlight = new InFlightAttempts(attemptTimeoutNanos);
    this.outbox =
        new Outbox(settings.remoteBatch().maxRequests(), settings.remoteBatch().maxChars());
    this.batching = settings.remoteBatch().maxRequests() > 1;
  }

  /** The attempts sent and not ended yet. */
  InFlightAttempts inFlight() {
    return inFlight;
  }

  /** The policies with requests pending that had attempts out since; forgets the others. */
  List<Policy> busyPolicies() {
    busy.removeIf(policy -> policy.pending == 0);
    return List.copyOf(busy);
  }

  /**
   * Sends {@code attempt} (not sent yet), or holds it in the {@link Outbox}. A request of a policy
   * without routees is answered {@code no_worker_for_policy}, unless the policy lost its last
   * routee less than {@code no-worker-grace} ago and the request's deadline is not before the
   * grace's end (a retry's may be): then it waits in {@link Policy#awaitingRoutee} (and the router
   * hears of the first that does through {@code holdingForRoutee}), so that the router still
   * answers every request by its deadline.
   */
  void dispatch(Attempt attempt) {
    Policy policy = attempt.policy();
    long now = System.nanoTime();
    if (policy.routees.isEmpty()) {
      if (policy.routees.emptiedWithin(now, noWorkerGraceNanos)
          && attempt.deadlineNanos() - policy.routees.emptiedGraceEnds(noWorkerGraceNanos) >= 0) {
        policy.awaitingRoutee.add(attempt);
        if (policy.awaitingRoutee.size() == 1) {
          holdingForRoutee.accept(policy);
        }
      } else {
        attempt.answer(Rejections.noWorker(policy.id));
      }
      return;
    }
    boolean batch = batching && policy.routees.anyRemote();
    ActorRef<Routee.Command> direct = policy.routees.direct(attempt, now);
    if (direct == null && batch) {
      outbox.viaGroupRouter(attempt);
      scheduleFlush();
    } else if (direct == null) {
      PolicyRoutees.GroupSend pick = policy.routees.viaGroupRouter();
      policy.groupRouter.tell(recordSent(attempt.sentTo(pick.routee(), pick, now)));
    } else if (batch && direct.path().address().hasGlobalScope()) {
      outbox.direct(direct, recordSent(attempt.sentTo(direct, null, now)));
      scheduleFlush();
    } else {
      direct.tell(recordSent(attempt.sentTo(direct, null, now)));
    }
  }

  /** Sends the attempts held in the {@link Outbox}. */
  void flush() {
    flushScheduled = false;
    if (!outbox.isEmpty()) {
      outbox.flush(outboxSender, System.nanoTime());
    }
  }

  private void scheduleFlush() {
    if (!flushScheduled) {
      flushScheduled = true;
      flushSoon.run();
    }
  }

  /** Records {@code sent} as in flight and returns its message. */
  private Routee.Hash recordSent(Attempt sent) {
    long now = sent.sentNanos();
    long timeoutNanos =
        Math.max(MIN_ATTEMPT_NANOS, Math.min(attemptTimeoutNanos, sent.deadlineNanos() - now));
    long requestId = nextRequestId++;
    if (inFlight.isEmpty()) {
      startTimeoutChecks.run();
    }
    inFlight.add(requestId, sent, now, timeoutNanos);
    sent.policy().outliers.sent(sent.target(), now);
    busy.add(sent.policy());
    RouterActor.Route route = sent.route();
    return new Routee.Hash(requestId, route.srcid(), route.payload(), replies);
  }
}
