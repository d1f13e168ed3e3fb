package revproxy.proxy;

/**
 * What the router knows of one routee's health: its attempts in flight and how long it has had some
 * without answering any, its latency, its timeouts in a row, and its ejection. Plain: times are
 * passed in, so every rule is tested without clocks.
 *
 * <p>States: <b>serving</b>; <b>ejected</b> until a time, which doubles with each ejection in a row
 * (after a shorter warm-up ejection first, if there was one); then <b>probing</b>: one attempt at a
 * time, until one is answered before it is overdue (serving again, the ejection count cleared) or
 * one is overdue or times out (ejected again).
 */
final class RouteeHealth {

  /** Weight of the newest answer in the latency average. */
  private static final double LATENCY_WEIGHT = 0.2;

  /** The worker id its replies carry, once a reply to a direct attempt told it. */
  String workerId;

  /** When it last left the listing (kept by {@code PolicyRoutees} while it is away). */
  long departedNanos;

  private int inFlight;

  /**
   * Since when it has had attempts in flight without a reply: its last reply, or the send after.
   */
  private long progressNanos;

  private double latencyNanos = -1;

  /** When it first answered; meaningful once {@code latencyNanos >= 0}. */
  private long firstAnswerNanos;

  private int timeoutsInARow;
  private boolean ejected;
  private long ejectedUntilNanos;
  private int ejectionsInARow;

  /** Whether the first ejection of this run was a warm-up one: the doubling starts after it. */
  private boolean shortFirstEjection;

  private boolean probing;

  /**
   * While it has never answered: when its first attempt went out, or its first since its last
   * ejection (-1: none yet). Replies that are no answer ("unavailable") do not move it.
   */
  private long trialSinceNanos = -1;

  int inFlight() {
    return inFlight;
  }

  /** The average latency of its answered attempts, or -1 before the first. */
  double latencyNanos() {
    return latencyNanos;
  }

  void sent(long now) {
    if (inFlight++ == 0) {
      progressNanos = now;
    }
    if (latencyNanos < 0 && trialSinceNanos < 0) {
      trialSinceNanos = now;
    }
  }

  /** It replied (also "unavailable"): it is making progress. */
  void replied(long now) {
    progressNanos = now;
    timeoutsInARow = 0;
  }

  /** An attempt sent at {@code sentNanos} was answered with a hash at {@code now}. */
  void answered(long sentNanos, long now) {
    replied(now);
    long latency = now - sentNanos;
    if (latencyNanos < 0) {
      firstAnswerNanos = now;
    }
    latencyNanos =
        latencyNanos < 0 ? latency : latencyNanos + LATENCY_WEIGHT * (latency - latencyNanos);
    if (probing) {
      probing = false;
      ejectionsInARow = 0;
      shortFirstEjection = false;
    }
  }

  /** Whether its first answer (to this proxy) came less than {@code windowNanos} before now. */
  boolean warmingUp(long now, long windowNanos) {
    return latencyNanos >= 0 && now - firstAnswerNanos < windowNanos;
  }

  /** An attempt ended, answered or not. */
  void ended() {
    if (inFlight > 0) {
      inFlight--;
    }
  }

  /** Whether it has had attempts in flight and no reply for longer than {@code overdueNanos}. */
  boolean overdue(long now, long overdueNanos) {
    return inFlight > 0 && now - progressNanos > overdueNanos;
  }

  /**
   * Whether it has never answered, has attempts in flight, and was first tried (since its last
   * ejection) longer than {@code limitNanos} ago: a backend that accepts requests and never
   * answers, however often it says "unavailable" meanwhile.
   */
  boolean firstReplyOverdue(long now, long limitNanos) {
    return latencyNanos < 0
        && inFlight > 0
        && trialSinceNanos >= 0
        && now - trialSinceNanos > limitNanos;
  }

  /**
   * Whether it should get no new attempt now: ejected; probing with its probe out; never answered
   * yet with an attempt out (a new routee proves itself with one request first, so a backend that
   * accepts and never answers holds up one request, not several); or {@code maxUnanswered} attempts
   * behind an answer that is {@code holdNanos} late.
   */
  boolean unavailable(long now, int maxUnanswered, long holdNanos) {
    if (ejected(now)) {
      return true;
    }
    if ((probing || latencyNanos < 0) && inFlight > 0) {
      return true;
    }
    return inFlight >= maxUnanswered && now - progressNanos > holdNanos;
  }

  /** Whether the group router may pick it: serving, not probing, not held back. */
  boolean steady(long now, int maxUnanswered, long holdNanos) {
    return !probing && !unavailable(now, maxUnanswered, holdNanos);
  }

  /** An attempt timed out; returns whether that makes {@code ejectAfter} in a row (or a probe). */
  boolean timedOut(int ejectAfter) {
    return ++timeoutsInARow >= ejectAfter || probing;
  }

  /** Ejects it from {@code now}: base time doubled per ejection in a row, at most {@code max}. */
  void eject(long now, long baseNanos, long maxNanos) {
    eject(now, baseNanos, maxNanos, 0);
  }

  /**
   * As {@link #eject(long, long, long)}, but the first ejection of a run lasts {@code firstNanos}
   * when that is positive (a warm-up ejection); the run's further ones then last {@code baseNanos},
   * doubled from there, as they would have without it.
   */
  void eject(long now, long baseNanos, long maxNanos, long firstNanos) {
    if (ejectionsInARow == 0) {
      shortFirstEjection = firstNanos > 0 && firstNanos < baseNanos;
    }
    long length;
    if (ejectionsInARow == 0 && shortFirstEjection) {
      length = firstNanos;
    } else {
      length = baseNanos << Math.min(ejectionsInARow - (shortFirstEjection ? 1 : 0), 30);
    }
    ejected = true;
    ejectedUntilNanos = now + (length <= 0 || length > maxNanos ? maxNanos : length);
    ejectionsInARow++;
    timeoutsInARow = 0;
    probing = false;
    trialSinceNanos = -1;
  }

  /** How long it stays ejected from {@code now}; meaningful while {@link #ejected} holds. */
  long ejectedForNanos(long now) {
    return ejectedUntilNanos - now;
  }

  /** Whether it is ejected now; an ejection that ran out turns into probing here. */
  boolean ejected(long now) {
    if (ejected && ejectedUntilNanos - now <= 0) {
      ejected = false;
      probing = true;
    }
    return ejected;
  }

  boolean probing() {
    return probing;
  }
}
