package revproxy.legacy;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.SupervisorStrategy;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import revproxy.ops.Metrics;
import revproxy.ops.ProxyMetrics;
import revproxy.protocol.ErrorCode;
import revproxy.protocol.Packet;
import revproxy.routee.Routee;

/**
 * Keeps one {@link LegacyBackend} per registered legacy server, keyed by policy and server id, and
 * decides which registrations to accept.
 *
 * <p>A registration is a privilege: it must come from an address in {@code allow-from}, carry the
 * token when one is set, and not point at the proxy's own ports ({@link RegistrationGuard}). It
 * never takes over a live server: the same id and policy from another address or port is refused
 * ({@code registration_conflict}) while the registered server is reachable, or was until less than
 * {@code takeover-after} ago. Registering costs bounded memory: at most {@code max-backends}
 * servers and {@code max-connections-total} connections to all of them; a server unreachable for
 * {@code forget-unreachable-after} is dropped by its backend and may register again. Refusals are
 * logged at most once per source address per minute.
 */
public final class LegacyRegistry extends AbstractBehavior<LegacyRegistry.Command> {

  public interface Command {}

  /**
   * A type "1" registration that arrived from {@code source} on the proxy's client port {@code
   * clientPort}; answered with a {@link Result}.
   */
  public record Register(
      Packet.Registration registration,
      InetAddress source,
      int clientPort,
      ActorRef<Result> replyTo)
      implements Command {}

  public sealed interface Result {}

  /**
   * The server is registered (or was already, at the same address); the original expects no reply.
   */
  public enum Accepted implements Result {
    INSTANCE
  }

  /** The registration changed nothing; {@code code} and {@code message} go back to the sender. */
  public record Refused(ErrorCode code, String message) implements Result {}

  /** Answered with every registered server. */
  public record GetBackends(ActorRef<List<BackendInfo>> replyTo) implements Command {}

  /** One registered legacy server, as {@link GetBackends} lists it. */
  public record BackendInfo(
      String serverId, String policyId, String address, int connections, boolean reachable) {}

  /** Sent by a backend whenever it gains its first connection or loses its last one. */
  record Reachability(ActorRef<Routee.Command> backend, boolean reachable) implements Command {}

  private record BackendStopped(String key, ActorRef<Routee.Command> ref) implements Command {}

  private static final Duration LOG_INTERVAL = Duration.ofMinutes(1);

  /**
   * @param ownPorts the proxy's cluster and management ports, which no registration may name
   */
  public static Behavior<Command> create(LegacySettings settings, Set<Integer> ownPorts) {
    // A bug in the registry must not stop registrations for good; its backends are its children
    // and stop with it, so their servers must register again (they do on restart).
    return Behaviors.supervise(
            Behaviors.<Command>setup(context -> new LegacyRegistry(context, settings, ownPorts)))
        .onFailure(SupervisorStrategy.restart());
  }

  /** What the registry knows of one registered server. */
  private static final class Backend {
    final String serverId;
    final String policyId;
    final String address;
    final ActorRef<Routee.Command> ref;
    final int connections;
    boolean reachable;

    /** When {@link #reachable} last changed (registered counts as a change to unreachable). */
    long sinceNanos;

    Backend(
        Packet.Registration registration,
        String address,
        ActorRef<Routee.Command> ref,
        int connections) {
      this.serverId = registration.serverId();
      this.policyId = registration.policyId();
      this.address = address;
      this.ref = ref;
      this.connections = connections;
      this.sinceNanos = System.nanoTime();
    }

    boolean live(long now, Duration takeoverAfter) {
      return reachable || now - sinceNanos < takeoverAfter.toNanos();
    }
  }

  private final LegacySettings settings;
  private final RegistrationSettings rules;
  private final RegistrationGuard guard;
  private final Map<String, Backend> backends = new HashMap<>();
  private final Map<ActorRef<Routee.Command>, Backend> byRef = new HashMap<>();
  private final LogLimiter refusalLog = new LogLimiter(LOG_INTERVAL, 20, 4096);

  /** Accepted registrations come from clients too (within allow-from): bounded the same way. */
  private final LogLimiter registrationLog = new LogLimiter(LOG_INTERVAL, 20, 4096);

  private final ProxyMetrics metrics;
  private long spawned;

  private LegacyRegistry(
      ActorContext<Command> context, LegacySettings settings, Set<Integer> ownPorts) {
    super(context);
    this.settings = settings;
    this.rules = settings.registration();
    this.guard = new RegistrationGuard(rules, ownPorts);
    this.metrics = Metrics.get(context.getSystem()).proxy();
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Register.class, this::onRegister)
        .onMessage(Reachability.class, this::onReachability)
        .onMessage(BackendStopped.class, this::onBackendStopped)
        .onMessage(GetBackends.class, this::onGetBackends)
        .build();
  }

  private Behavior<Command> onRegister(Register register) {
    Result result = decide(register);
    if (result instanceof Refused refused) {
      logRefusal(register, refused);
      metrics.registration(refused.code().wire());
    } else {
      metrics.registration("accepted");
    }
    metrics.legacyBackends(backends.size());
    register.replyTo().tell(result);
    return this;
  }

  private Result decide(Register register) {
    Packet.Registration registration = register.registration();
    Refused refused = guard.check(registration, register.source(), register.clientPort());
    if (refused != null) {
      return refused;
    }
    String key = registration.policyId() + "/" + registration.serverId();
    String address = register.source().getHostAddress() + ":" + registration.listenPort();
    long now = System.nanoTime();
    Backend existing = backends.get(key);
    if (existing != null && existing.address.equals(address)) {
      getContext().getLog().debug("Legacy server {} re-registered at {}", key, address);
      return Accepted.INSTANCE;
    }
    if (existing != null) {
      if (existing.live(now, rules.takeoverAfter())) {
        return new Refused(
            ErrorCode.REGISTRATION_CONFLICT,
            "server "
                + registration.serverId()
                + " of policy "
                + registration.policyId()
                + " is registered from another address or port and is reachable; it may be"
                + " replaced once it has been unreachable for "
                + rules.takeoverAfter().toMillis()
                + " ms");
      }
      if (registrationLog.allow(key, now)) {
        getContext()
            .getLog()
            .info(
                "Legacy server {} moves from {} (unreachable) to {}{}",
                key,
                existing.address,
                address,
                notLogged(registrationLog, "registrations"));
      }
      remove(existing);
      getContext().stop(existing.ref);
    }
    if (backends.size() >= rules.maxBackends()) {
      return new Refused(
          ErrorCode.REGISTRATION_REFUSED,
          "the proxy already has "
              + rules.maxBackends()
              + " legacy servers registered (revproxy.legacy.max-backends)");
    }
    int available = rules.maxConnections() - connectionsInUse();
    if (available < 1) {
      return new Refused(
          ErrorCode.REGISTRATION_REFUSED,
          "the proxy already keeps "
              + rules.maxConnections()
              + " connections to legacy servers (revproxy.legacy.max-connections-total)");
    }
    int connections = Math.min(wantedConnections(registration), available);
    start(registration, register.source(), address, key, connections);
    return Accepted.INSTANCE;
  }

  /**
   * The connections a server may have: what it announced, else the configured number or, for {@code
   * auto}, the most its pool may grow to.
   */
  private int wantedConnections(Packet.Registration registration) {
    return registration.connections() > 1
        ? Math.min(registration.connections(), settings.maxConnectionsPerBackend())
        : settings.connectionsPerBackend().orElse(settings.maxConnectionsPerBackend());
  }

  /** Whether the server's pool learns its size: it announced none and the setting is auto. */
  private boolean adaptive(Packet.Registration registration) {
    return registration.connections() <= 1 && settings.connectionsPerBackend().isEmpty();
  }

  private int connectionsInUse() {
    int total = 0;
    for (Backend backend : backends.values()) {
      total += backend.connections;
    }
    return total;
  }

  private void start(
      Packet.Registration registration,
      InetAddress source,
      String address,
      String key,
      int connections) {
    // A bug in one backend must not leave its server out of the rotation for good; one that
    // keeps failing stops, and its server may register again. (Reconnecting backs off inside.)
    Behavior<Routee.Command> supervised =
        Behaviors.supervise(
                LegacyBackend.create(
                    registration,
                    source.getHostAddress(),
                    connections,
                    adaptive(registration),
                    settings,
                    getContext().getSelf()))
            .onFailure(SupervisorStrategy.restart().withLimit(10, Duration.ofMinutes(1)));
    ActorRef<Routee.Command> ref =
        getContext()
            .spawn(
                supervised,
                "legacy-"
                    + registration.policyId()
                    + "-"
                    + registration.serverId()
                    + "-"
                    + (++spawned));
    getContext().watchWith(ref, new BackendStopped(key, ref));
    Backend backend = new Backend(registration, address, ref, connections);
    backends.put(key, backend);
    byRef.put(ref, backend);
    if (registrationLog.allow(key, System.nanoTime())) {
      getContext()
          .getLog()
          .info(
              "Legacy server {} for policy {} registered at {} ({}){}",
              registration.serverId(),
              registration.policyId(),
              address,
              adaptive(registration)
                  ? "connections: auto, from 1 up to " + connections
                  : connections + " connection(s)",
              notLogged(registrationLog, "registrations"));
    }
  }

  private void logRefusal(Register register, Refused refused) {
    String source = register.source().getHostAddress();
    if (refusalLog.allow(source, System.nanoTime())) {
      getContext()
          .getLog()
          .warn(
              "Registration of server {} for policy {} from {} refused ({}): {}{}",
              register.registration().serverId(),
              register.registration().policyId(),
              source,
              refused.code().wire(),
              refused.message(),
              notLogged(refusalLog, "refusals"));
    }
  }

  /** " (12 more refusals not logged)" for the lines {@code limiter} held back, if any. */
  private static String notLogged(LogLimiter limiter, String what) {
    long suppressed = limiter.takeSuppressed();
    return suppressed > 0 ? " (" + suppressed + " more " + what + " not logged)" : "";
  }

  private Behavior<Command> onReachability(Reachability reachability) {
    Backend backend = byRef.get(reachability.backend());
    if (backend != null && backend.reachable != reachability.reachable()) {
      backend.reachable = reachability.reachable();
      backend.sinceNanos = System.nanoTime();
    }
    return this;
  }

  private Behavior<Command> onBackendStopped(BackendStopped stopped) {
    Backend current = backends.get(stopped.key());
    if (current != null && current.ref.equals(stopped.ref())) {
      remove(current);
    }
    return this;
  }

  private void remove(Backend backend) {
    backends.remove(backend.policyId + "/" + backend.serverId);
    byRef.remove(backend.ref);
    metrics.legacyBackends(backends.size());
  }

  private Behavior<Command> onGetBackends(GetBackends get) {
    List<BackendInfo> infos = new ArrayList<>();
    for (Backend backend : backends.values()) {
      infos.add(
          new BackendInfo(
              backend.serverId,
              backend.policyId,
              backend.address,
              backend.connections,
              backend.reachable));
    }
    get.replyTo().tell(infos);
    return this;
  }
}
