package revproxy.worker;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.receptionist.Receptionist;
import akka.actor.typed.receptionist.ServiceKey;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import revproxy.ops.Metrics;
import revproxy.protocol.PayloadHash;
import revproxy.routee.Routee;

/**
 * A backend that serves one privacy policy: it registers itself with the cluster receptionist under
 * the policy's {@link Routee#serviceKey(String)} and answers each {@link Routee.Hash} with the
 * payload's SHA-1 (a {@link Routee.HashBatch} with one {@link Routee.Answers}).
 */
public final class HashWorker extends AbstractBehavior<Routee.Command> {

  public static Behavior<Routee.Command> create(String workerId, String policyId) {
    return create(workerId, policyId, null);
  }

  /** As {@link #create(String, String)}; {@code registered} hears when the receptionist has it. */
  public static Behavior<Routee.Command> create(
      String workerId, String policyId, ActorRef<Receptionist.Registered> registered) {
    return Behaviors.setup(
        context -> {
          ServiceKey<Routee.Command> key = Routee.serviceKey(policyId);
          context
              .getSystem()
              .receptionist()
              .tell(
                  registered == null
                      ? Receptionist.register(key, context.getSelf())
                      : Receptionist.register(key, context.getSelf(), registered));
          context.getLog().info("Worker {} registered for policy {}", workerId, policyId);
          return new HashWorker(
              context,
              workerId,
              Metrics.get(context.getSystem()).worker().hashes(workerId, policyId));
        });
  }

  private final String workerId;
  private final CounterDataPoint hashed;

  private HashWorker(
      ActorContext<Routee.Command> context, String workerId, CounterDataPoint hashed) {
    super(context);
    this.workerId = workerId;
    this.hashed = hashed;
  }

  @Override
  public Receive<Routee.Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Routee.Hash.class, this::onHash)
        .onMessage(Routee.HashBatch.class, this::onHashBatch)
        .build();
  }

  private Behavior<Routee.Command> onHash(Routee.Hash hash) {
    hash.answer(workerId, PayloadHash.sha1Hex(hash.payload()));
    hashed.inc();
    return this;
  }

  /** Several requests in one message: their answers go back in one message too. */
  private Behavior<Routee.Command> onHashBatch(Routee.HashBatch batch) {
    batch.answerAll(
        hash -> new Routee.Hashed(hash.requestId(), workerId, PayloadHash.sha1Hex(hash.payload())));
    hashed.inc(batch.hashes().size());
    return this;
  }
}
