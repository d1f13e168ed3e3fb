package revproxy.proxy;

import akka.actor.typed.ActorRef;
import java.time.Duration;
import java.util.function.Supplier;
import org.slf4j.Logger;
import revproxy.routee.Routee;

/**
 * What follows when an attempt ends. Answered with a hash: the request is served. Answered {@link
 * Routee.Unavailable} or timed out: it is retried (hashing is idempotent) while it has attempts
 * ({@code max-attempts}) and time ({@code request-timeout}) left, else rejected. Either way its
 * routee is credited or blamed ({@link OutlierDetector}); a routee ejected for it has its other
 * attempts in flight ended at once, to be retried elsewhere.
 *
 * <p>Plain and single-threaded: it lives inside the {@code RouterActor} and logs with the actor's
 * logger.
 */
final class AttemptOutcomes {

  private final int maxAttempts;
  private final Duration requestTimeout;
  private final AttemptDispatcher dispatcher;
  private final InFlightAttempts inFlight;
  private final Supplier<Logger> log;

  AttemptOutcomes(ProxySettings settings, AttemptDispatcher dispatcher, Supplier<Logger> log) {
    this.maxAttempts = settings.maxAttempts();
    this.requestTimeout = settings.requestTimeout();
    this.dispatcher = dispatcher;
    this.inFlight = dispatcher.inFlight();
    this.log = log;
  }

  /** A routee replied: one answer, or several ({@link Routee.Answers}) to a batch. */
  void replied(Routee.Reply reply) {
    if (reply instanceof Routee.Answers answers) {
      for (Routee.Answer answer : answers.answers()) {
        answered(answer);
      }
    } else {
      answered((Routee.Answer) reply);
    }
  }

  private void answered(Routee.Answer answer) {
    Attempt attempt = inFlight.answered(answer.requestId());
    if (attempt == null) {
      // Its attempt timed out already (and was retried or answered): too late to count.
      log.get().debug("Late reply dropped: {}", answer);
      return;
    }
    ended(attempt, answer);
  }

  /**
   * Ends the attempts that timed out by {@code now}, and ejects the routees of busy policies that
   * are overdue now (their attempts in flight are retried at once).
   */
  void checkTimeouts(long now) {
    for (Attempt expired : inFlight.expire(now)) {
      ended(expired, null);
    }
    for (Policy policy : dispatcher.busyPolicies()) {
      for (ActorRef<Routee.Command> outlier : policy.outliers.overdue(now)) {
        if (policy.outliers.eject(outlier, now)) {
          long overdueMs = policy.outliers.overdueNanos() / 1_000_000;
          ejected(policy, outlier, now, "no reply for " + overdueMs + " ms");
        }
      }
    }
  }

  /** {@code routee} was ejected: its attempts in flight are retried elsewhere now. */
  private void ejected(Policy policy, ActorRef<Routee.Command> routee, long now, String why) {
    policy.metrics.ejected();
    log.get()
        .warn(
            "Ejecting {} from policy {} for {} ms: {}",
            routee.path(),
            policy.id,
            policy.outliers.ejectedForMillis(routee, now),
            why);
    for (Attempt abandoned : inFlight.removeSentTo(routee)) {
      ended(abandoned, null);
    }
  }

  /** One attempt ended: {@code reply} is null when it timed out. */
  private void ended(Attempt attempt, Routee.Answer reply) {
    Policy policy = attempt.policy();
    PolicyRoutees routees = policy.routees;
    long now = System.nanoTime();
    policy.outliers.ended(attempt.target());
    if (reply instanceof Routee.Hashed hashed) {
      routees.replied(
          attempt.target(), attempt.groupSend(), hashed.workerId(), true, attempt.sentNanos(), now);
      attempt.answer(
          new RouterActor.Served(attempt.route().tag(), hashed.workerId(), hashed.payloadHash()));
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
    } else if (policy.outliers.timedOut(attempt.target(), now)) {
      ejected(policy, attempt.target(), now, "attempts timed out in a row");
    }
    if (attempt.number() < maxAttempts && attempt.deadlineNanos() - System.nanoTime() > 0) {
      policy.metrics.retried();
      dispatcher.dispatch(attempt.next());
    } else if (reply instanceof Routee.Unavailable unavailable) {
      attempt.answer(Rejections.unavailable(policy.id, attempt.number(), unavailable.reason()));
    } else {
      attempt.answer(Rejections.timeout(policy.id, requestTimeout, attempt.number()));
    }
  }
}
