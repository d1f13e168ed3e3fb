package revproxy.legacy;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.SupervisorStrategy;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import java.util.HashMap;
import java.util.Map;
import revproxy.protocol.Packet;
import revproxy.worker.HashWorker;

/**
 * Keeps one {@link LegacyBackend} per registered legacy server, keyed by policy and server id. A
 * new registration of the same id and policy replaces the old backend when its address changed,
 * and starts a new one if the old one has stopped.
 */
public final class LegacyRegistry extends AbstractBehavior<LegacyRegistry.Command> {

  public interface Command {}

  /** A type "1" registration that arrived from {@code host}. */
  public record Register(Packet.Registration registration, String host) implements Command {}

  private record BackendStopped(String key, ActorRef<HashWorker.Command> ref) implements Command {}

  public static Behavior<Command> create(LegacySettings settings) {
    return Behaviors.setup(context -> new LegacyRegistry(context, settings));
  }

  private record Backend(String address, ActorRef<HashWorker.Command> ref) {}

  private final LegacySettings settings;
  private final Map<String, Backend> backends = new HashMap<>();
  private long spawned;

  private LegacyRegistry(ActorContext<Command> context, LegacySettings settings) {
    super(context);
    this.settings = settings;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Register.class, this::onRegister)
        .onMessage(BackendStopped.class, this::onBackendStopped)
        .build();
  }

  private Behavior<Command> onRegister(Register register) {
    Packet.Registration registration = register.registration();
    String key = registration.policyId() + "/" + registration.serverId();
    String address = register.host() + ":" + registration.listenPort();
    Backend existing = backends.get(key);
    if (existing != null && existing.address().equals(address)) {
      getContext().getLog().info("Legacy server {} re-registered at {}", key, address);
      return this;
    }
    if (existing != null) {
      getContext().stop(existing.ref());
    }
    // A bug in one backend must not leave its server out of the rotation for good.
    Behavior<HashWorker.Command> supervised =
        Behaviors.supervise(LegacyBackend.create(registration, register.host(), settings))
            .onFailure(
                SupervisorStrategy.restartWithBackoff(
                    settings.reconnectMinBackoff(), settings.reconnectMaxBackoff(), 0.2));
    ActorRef<HashWorker.Command> backend =
        getContext()
            .spawn(
                supervised,
                "legacy-" + registration.policyId() + "-" + registration.serverId() + "-" + (++spawned));
    getContext().watchWith(backend, new BackendStopped(key, backend));
    backends.put(key, new Backend(address, backend));
    getContext()
        .getLog()
        .info(
            "Legacy server {} for policy {} registered at {}",
            registration.serverId(),
            registration.policyId(),
            address);
    return this;
  }

  private Behavior<Command> onBackendStopped(BackendStopped stopped) {
    Backend current = backends.get(stopped.key());
    if (current != null && current.ref().equals(stopped.ref())) {
      backends.remove(stopped.key());
    }
    return this;
  }
}
