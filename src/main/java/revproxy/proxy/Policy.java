package revproxy.proxy;

import akka.actor.typed.ActorRef;
import akka.actor.typed.receptionist.Receptionist;
import akka.actor.typed.receptionist.ServiceKey;
import java.util.ArrayDeque;
import java.util.Queue;
import revproxy.ops.ProxyMetrics;
import revproxy.routee.Routee;

/** What the {@link RouterActor} knows of one policy it tracks. */
final class Policy {

  final String id;
  final ServiceKey<Routee.Command> key;

  /** {@code Routers.group(key).withRoundRobinRouting()}: the path of first attempts. */
  final ActorRef<Routee.Command> groupRouter;

  /** The child that subscribes to the key's listing; stopping it ends the subscription. */
  final ActorRef<Receptionist.Listing> subscriber;

  /** Each routee's health, and which routees are outliers. */
  final OutlierDetector outliers;

  /** The routees in order, whom the group router picks, and the choice of direct attempts. */
  final PolicyRoutees routees;

  /** Requests that came before the first listing told whether the policy has workers. */
  final Queue<Attempt> awaitingListing = new ArrayDeque<>();

  /**
   * Requests that came, or were to be retried, within {@code no-worker-grace} of the listing that
   * took the policy's last routee away: they wait for a routee to be listed.
   */
  final Queue<Attempt> awaitingRoutee = new ArrayDeque<>();

  /** Requests of this policy not answered yet. */
  int pending;

  long lastRequestNanos;

  /**
   * Where its requests are counted: under {@link ProxyMetrics#UNSERVED} until it first has a
   * routee, then under its own id (so made-up ids add no series).
   */
  ProxyMetrics.PolicyMetrics metrics;

  Policy(
      String id,
      ServiceKey<Routee.Command> key,
      ActorRef<Routee.Command> groupRouter,
      ActorRef<Receptionist.Listing> subscriber,
      OutlierDetector outliers,
      ProxyMetrics.PolicyMetrics metrics) {
    this.id = id;
    this.outliers = outliers;
    this.routees = new PolicyRoutees(outliers);
    this.metrics = metrics;
    this.key = key;
    this.groupRouter = groupRouter;
    this.subscriber = subscriber;
  }

  /** No worker, nothing pending, and no request for {@code forgetAfterNanos}: it may go. */
  boolean idleWithoutWorkers(long now, long forgetAfterNanos) {
    return routees.listed()
        && routees.isEmpty()
        && pending == 0
        && now - lastRequestNanos >= forgetAfterNanos;
  }
}
