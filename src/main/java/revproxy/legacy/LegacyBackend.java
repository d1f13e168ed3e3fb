package revproxy.legacy;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.PreRestart;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.actor.typed.receptionist.Receptionist;
import akka.actor.typed.receptionist.ServiceKey;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import revproxy.protocol.Packet;
import revproxy.routee.Routee;

/**
 * The proxy's stand-in for one legacy TCP server (the tutorial's {@code server.py}, or our {@code
 * server} role): a routee of its policy, registered under the same key as the HashWorkers, so one
 * round robin covers both.
 *
 * <p>The original server registers before it listens, serves one connection at a time and breaks
 * when two messages arrive in one read. So this actor keeps up to {@code connections} persistent
 * connections (one {@link LegacyConnection} child each) with exactly one request in flight on each,
 * and is in the receptionist only while at least one is up. For a server that did not say how many
 * connections it serves ({@code adaptive}), the pool learns it: it starts with one, and while
 * requests wait for a free connection it opens one more and sends it a single request (a probe):
 * answered within {@code probe-timeout}, the connection stays and the pool may grow again; not
 * answered (the original server serves one connection at a time, the others wait in its backlog),
 * the request goes back to the router, the connection closes, and the pool keeps its size for
 * {@code probe-backoff}. Connections idle for {@code idle-close-after} close again, down to one.
 * While none is up, a single connection probes the server, with one exponential backoff (and
 * jitter) for the whole backend; only once the server answers are the others opened, so a server
 * that is down, or a registration that names a closed port, costs one connection attempt at a time.
 * A request it cannot serve (down, busy, no reply in time) is answered {@link Routee.Unavailable},
 * and the router tries the next routee. A server that has never answered and has left a request
 * unanswered for {@code probe-timeout} gets no other: what waits, and what comes, is handed back at
 * once (it would wait behind a server that may never answer, and reach it after the router has
 * given up on it), until a connection of it ends and a new one gives it a new chance. A server
 * unreachable for {@code forget-unreachable-after} is dropped.
 */
public final class LegacyBackend extends AbstractBehavior<Routee.Command> {

  /** Messages from this backend's connections and timers; never sent across nodes. */
  interface Internal extends Routee.Command {}

  /**
   * From a connection: it is up and has no request in flight; {@code answered}: it just got the
   * server's answer to one.
   */
  record Ready(ActorRef<LegacyConnection.Command> connection, boolean answered)
      implements Internal {}

  /** From a connection: it has ended ({@code wasUp}: after connecting), and why. */
  record ConnectionDown(ActorRef<LegacyConnection.Command> connection, boolean wasUp, String reason)
      implements Internal {}

  private enum Reconnect implements Internal {
    INSTANCE
  }

  /** Closes connections idle for {@code idle-close-after}, down to one. */
  private enum CloseIdle implements Internal {
    INSTANCE
  }

  /** The server has been unreachable for {@code forget-unreachable-after}. */
  private enum Forget implements Internal {
    INSTANCE
  }

  /** A request waiting for a free connection, since when. */
  private record Queued(Routee.Hash hash, long sinceNanos) {}

  /**
   * A backend keeping up to {@code connections} connections to the server of {@code registration}
   * at {@code host}; it tells {@code registry} when the server becomes reachable or unreachable.
   */
  public static Behavior<Routee.Command> create(
      Packet.Registration registration,
      String host,
      int connections,
      boolean adaptive,
      LegacySettings settings,
      ActorRef<LegacyRegistry.Command> registry) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers ->
                    new LegacyBackend(
                        context,
                        timers,
                        registration,
                        host,
                        connections,
                        adaptive,
                        settings,
                        registry)));
  }

  private final TimerScheduler<Routee.Command> timers;
  private final String serverId;
  private final String policyId;
  private final InetSocketAddress address;

  /** The most connections: announced, configured, or (adaptive) what the pool may grow to. */
  private final int connections;

  private final boolean adaptive;

  /** How many connections to keep now: {@code connections}, or (adaptive) what was learnt. */
  private int pool;

  /** The connection whose first request tests whether the server serves one more, or null. */
  private ActorRef<LegacyConnection.Command> probe;

  private long noGrowthUntilNanos;

  /** When each idle connection became idle. */
  private final Map<ActorRef<LegacyConnection.Command>, Long> idleSince = new HashMap<>();

  private final LegacySettings settings;
  private final ActorRef<LegacyRegistry.Command> registry;
  private final ServiceKey<Routee.Command> key;
  private final Set<ActorRef<LegacyConnection.Command>> connecting = new HashSet<>();
  private final Set<ActorRef<LegacyConnection.Command>> up = new HashSet<>();

  /** Connections that are up and have no request in flight, the longest idle first. */
  private final Queue<ActorRef<LegacyConnection.Command>> idle = new ArrayDeque<>();

  private final Queue<Queued> waiting = new ArrayDeque<>();
  private Duration backoff;
  private boolean registered;
  private long opened;

  /** The connection spawned last (a probe, when the pool grows). */
  private ActorRef<LegacyConnection.Command> newest;

  /** Whether the probe connection has yet to get its one request. */
  private boolean probePending;

  /** Whether the server has answered a request yet. */
  private boolean everAnswered;

  /** Before it has: when the oldest request out to it was sent, on the connections now up. */
  private long unansweredSinceNanos = -1;

  private LegacyBackend(
      ActorContext<Routee.Command> context,
      TimerScheduler<Routee.Command> timers,
      Packet.Registration registration,
      String host,
      int connections,
      boolean adaptive,
      LegacySettings settings,
      ActorRef<LegacyRegistry.Command> registry) {
    super(context);
    this.adaptive = adaptive;
    this.pool = adaptive ? 1 : connections;
    this.timers = timers;
    this.serverId = registration.serverId();
    this.policyId = registration.policyId();
    this.address = new InetSocketAddress(host, registration.listenPort());
    this.connections = connections;
    this.settings = settings;
    this.registry = registry;
    this.key = Routee.serviceKey(policyId);
    this.backoff = settings.reconnectMinBackoff();
    startForgetTimer();
    if (adaptive) {
      timers.startTimerWithFixedDelay(CloseIdle.INSTANCE, settings.idleCloseAfter().dividedBy(2));
    }
    open();
  }

  @Override
  public Receive<Routee.Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Routee.Hash.class, this::onHash)
        .onMessage(
            Routee.HashBatch.class,
            batch -> {
              // From the router of another proxy node: each request on its own connection.
              for (Routee.Hash hash : batch.hashes()) {
                onHash(hash);
              }
              return this;
            })
        .onMessage(Ready.class, this::onReady)
        .onMessage(ConnectionDown.class, this::onConnectionDown)
        .onMessageEquals(Reconnect.INSTANCE, this::open)
        .onMessageEquals(CloseIdle.INSTANCE, this::onCloseIdle)
        .onMessageEquals(Forget.INSTANCE, this::onForget)
        .onSignal(
            PreRestart.class,
            restart -> {
              // The ref outlives the restart, and the new instance starts unregistered.
              deregister();
              return this;
            })
        .build();
  }

  /**
   * Opens connections up to the pool's size: all of them while the server is reachable, one while
   * it is not. Nothing while a backoff runs.
   */
  private Behavior<Routee.Command> open() {
    if (timers.isTimerActive(Reconnect.INSTANCE)) {
      return this;
    }
    int wanted = up.isEmpty() ? 1 : pool;
    while (up.size() + connecting.size() < wanted) {
      ActorRef<LegacyConnection.Command> connection =
          getContext()
              .spawn(
                  LegacyConnection.create(
                      serverId, policyId, address, settings, getContext().getSelf().narrow()),
                  "connection-" + ++opened);
      connecting.add(connection);
      newest = connection;
    }
    return this;
  }

  private Behavior<Routee.Command> onHash(Routee.Hash hash) {
    if (unproven()) {
      refuseWaiting(unprovenReason());
      hash.refuse(serverId, unprovenReason());
      return this;
    }
    ActorRef<LegacyConnection.Command> free = idle.poll();
    if (free != null) {
      idleSince.remove(free);
      boolean probing = free.equals(probe) && probePending;
      probePending &= !probing;
      send(free, hash, probing);
    } else if (!registered) {
      hash.refuse(serverId, "not connected to " + address);
    } else if (waiting.size() >= settings.maxQueuedPerBackend()) {
      hash.refuse(serverId, "busy: too many queued requests");
    } else {
      waiting.add(new Queued(hash, System.nanoTime()));
      maybeGrow();
    }
    return this;
  }

  /** Requests wait for a free connection: try one more connection, if the pool may grow. */
  private void maybeGrow() {
    if (!adaptive
        || probe != null
        || pool >= connections
        || up.isEmpty()
        || System.nanoTime() - noGrowthUntilNanos < 0) {
      return;
    }
    pool++;
    int before = connecting.size();
    open();
    if (connecting.size() > before) {
      probe = newest;
      probePending = true;
    } else {
      pool--;
    }
  }

  private Behavior<Routee.Command> onCloseIdle() {
    long now = System.nanoTime();
    for (ActorRef<LegacyConnection.Command> connection : List.copyOf(idle)) {
      Long since = idleSince.get(connection);
      if (pool > 1 && since != null && now - since > settings.idleCloseAfter().toNanos()) {
        pool--;
        idle.remove(connection);
        idleSince.remove(connection);
        up.remove(connection);
        getContext().stop(connection);
      }
    }
    return this;
  }

  /** Sends {@code hash} on {@code connection}, with the probe's timeout when it is one. */
  private void send(
      ActorRef<LegacyConnection.Command> connection, Routee.Hash hash, boolean probing) {
    if (!everAnswered && unansweredSinceNanos < 0) {
      unansweredSinceNanos = System.nanoTime();
    }
    connection.tell(
        new LegacyConnection.Send(
            hash, probing ? settings.probeTimeout() : settings.replyTimeout()));
  }

  /** Never answered, and a request has been out to it for longer than {@code probe-timeout}. */
  private boolean unproven() {
    return !everAnswered
        && unansweredSinceNanos >= 0
        && System.nanoTime() - unansweredSinceNanos > settings.probeTimeout().toNanos();
  }

  private void refuseWaiting(String reason) {
    while (!waiting.isEmpty()) {
      waiting.poll().hash().refuse(serverId, reason);
    }
  }

  private String unprovenReason() {
    return "no answer yet: its first request has waited more than "
        + settings.probeTimeout().toMillis()
        + " ms";
  }

  private Behavior<Routee.Command> onReady(Ready ready) {
    ActorRef<LegacyConnection.Command> connection = ready.connection();
    if (ready.answered()) {
      everAnswered = true;
    }
    if (connecting.remove(connection)) {
      up.add(connection);
      backoff = settings.reconnectMinBackoff();
      getContext().getLog().debug("Connected to legacy server {} at {}", serverId, address);
      updateRegistration(null);
      open();
    }
    if (!up.contains(connection)) {
      return this; // a connection of an instance before a restart
    }
    boolean probing = connection.equals(probe) && probePending;
    if (unproven()) {
      refuseWaiting(unprovenReason());
    }
    Queued next = nextFresh();
    if (next != null) {
      send(connection, next.hash(), probing);
      if (probing) {
        probePending = false;
      } else if (connection.equals(probe)) {
        // Its probe was answered in time: the server serves this many connections at once.
        probe = null;
        getContext().getLog().debug("Legacy server {} serves {} connection(s)", serverId, pool);
        maybeGrow();
      }
    } else {
      if (connection.equals(probe) && !probePending) {
        probe = null;
      }
      idle.add(connection);
      idleSince.put(connection, System.nanoTime());
    }
    return this;
  }

  /**
   * The next queued request. One that waited longer than {@code reply-timeout} is handed back
   * instead: the router has retried it elsewhere by then, and it would delay fresh work.
   */
  private Queued nextFresh() {
    long now = System.nanoTime();
    while (!waiting.isEmpty()) {
      Queued next = waiting.poll();
      if (now - next.sinceNanos() <= settings.replyTimeout().toNanos()) {
        return next;
      }
      next.hash().refuse(serverId, "waited too long for a free connection");
    }
    return null;
  }

  private Behavior<Routee.Command> onConnectionDown(ConnectionDown down) {
    ActorRef<LegacyConnection.Command> connection = down.connection();
    boolean wasUp = up.remove(connection);
    if (!wasUp && !connecting.remove(connection)) {
      return this; // a connection of an instance before a restart
    }
    if (wasUp) {
      // Its request went back to the router: a new connection is a new chance.
      unansweredSinceNanos = -1;
    }
    idle.remove(connection);
    idleSince.remove(connection);
    if (connection.equals(probe)) {
      probe = null;
      probePending = false;
      if (wasUp) {
        // Connected but not served in time: the server serves fewer connections at once.
        pool = Math.max(1, pool - 1);
        noGrowthUntilNanos = System.nanoTime() + settings.probeBackoff().toNanos();
        getContext()
            .getLog()
            .info(
                "Legacy server {} at {} serves {} connection(s) at once ({})",
                serverId,
                address,
                pool,
                down.reason());
        return this;
      }
    }
    updateRegistration(down.reason());
    if (!registered) {
      while (!waiting.isEmpty()) {
        waiting.poll().hash().refuse(serverId, down.reason());
      }
    }
    // Per connection, so DEBUG: a server of 32 connections that stops would be 32 lines. The
    // server leaving the rotation is one line.
    if (wasUp) {
      getContext()
          .getLog()
          .debug(
              "Lost a connection to legacy server {} at {}: {}", serverId, address, down.reason());
    } else {
      getContext()
          .getLog()
          .debug("Legacy server {} at {} not reachable: {}", serverId, address, down.reason());
    }
    timers.startSingleTimer(Reconnect.INSTANCE, jittered(backoff));
    backoff = min(backoff.multipliedBy(2), settings.reconnectMaxBackoff());
    return this;
  }

  /** Unreachable for too long: stop, so the registry drops the server and frees its slot. */
  private Behavior<Routee.Command> onForget() {
    getContext()
        .getLog()
        .info(
            "Legacy server {} at {} unreachable for {} s: dropped; it may register again",
            serverId,
            address,
            settings.forgetUnreachableAfter().toSeconds());
    deregister();
    return Behaviors.stopped();
  }

  private void startForgetTimer() {
    if (!settings.forgetUnreachableAfter().isZero()) {
      timers.startSingleTimer(Forget.INSTANCE, settings.forgetUnreachableAfter());
    }
  }

  /**
   * In the receptionist exactly while at least one connection is up. {@code lost}: why a connection
   * went down, said when that was the last one.
   */
  private void updateRegistration(String lost) {
    boolean anyUp = !up.isEmpty();
    if (anyUp && !registered) {
      getContext()
          .getSystem()
          .receptionist()
          .tell(Receptionist.register(key, getContext().getSelf()));
      getContext()
          .getLog()
          .info("Legacy server {} joins the rotation of policy {}", serverId, policyId);
      timers.cancel(Forget.INSTANCE);
      registry.tell(new LegacyRegistry.Reachability(getContext().getSelf(), true));
    } else if (!anyUp && registered) {
      deregister();
      getContext()
          .getLog()
          .info("Legacy server {} leaves the rotation of policy {}: {}", serverId, policyId, lost);
      startForgetTimer();
      registry.tell(new LegacyRegistry.Reachability(getContext().getSelf(), false));
    }
    registered = anyUp;
  }

  private void deregister() {
    getContext()
        .getSystem()
        .receptionist()
        .tell(Receptionist.deregister(key, getContext().getSelf()));
  }

  /** Up to 20% more, so that many backends of one failed host do not reconnect in step. */
  private static Duration jittered(Duration backoff) {
    return backoff.plusMillis(
        (long) (backoff.toMillis() * 0.2 * ThreadLocalRandom.current().nextDouble()));
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }
}
