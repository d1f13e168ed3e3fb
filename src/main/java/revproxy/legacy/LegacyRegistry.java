package revproxy.legacy;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;
import revproxy.protocol.Packet;
import revproxy.worker.HashWorker;

/**
 * Keeps one {@link LegacyBackend} per registered legacy server, keyed by policy and server id. A
 * new registration of the same id and policy replaces the old backend when its address changed.
 */
public final class LegacyRegistry extends AbstractBehavior<LegacyRegistry.Command> {

  public interface Command {}

  /** A type "1" registration that arrived from {@code host}. */
  public record Register(Packet.Registration registration, String host) implements Command {}

  public static Behavior<Command> create(LegacySettings settings) {
    return Behaviors.setup(context -> new LegacyRegistry(context, settings));
  }

  private record Backend(InetSocketAddress address, ActorRef<HashWorker.Command> ref) {}

  private final LegacySettings settings;
  private final Map<String, Backend> backends = new HashMap<>();
  private long spawned;

  private LegacyRegistry(ActorContext<Command> context, LegacySettings settings) {
    super(context);
    this.settings = settings;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder().onMessage(Register.class, this::onRegister).build();
  }

  private Behavior<Command> onRegister(Register register) {
    Packet.Registration registration = register.registration();
    String key = registration.policyId() + "/" + registration.serverId();
    InetSocketAddress address =
        InetSocketAddress.createUnresolved(register.host(), registration.listenPort());
    Backend existing = backends.get(key);
    if (existing != null && existing.address().equals(address)) {
      getContext().getLog().info("Legacy server {} re-registered at {}", key, address);
      return this;
    }
    if (existing != null) {
      getContext().stop(existing.ref());
    }
    ActorRef<HashWorker.Command> backend =
        getContext()
            .spawn(
                LegacyBackend.create(registration, register.host(), settings),
                "legacy-" + registration.policyId() + "-" + registration.serverId() + "-" + (++spawned));
    backends.put(key, new Backend(address, backend));
    getContext()
        .getLog()
        .info(
            "Legacy server {} for policy {} registered at {}:{}",
            registration.serverId(),
            registration.policyId(),
            register.host(),
            registration.listenPort());
    return this;
  }
}
