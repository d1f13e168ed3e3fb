package revproxy.legacy;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.PreRestart;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Adapter;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.actor.typed.receptionist.Receptionist;
import akka.actor.typed.receptionist.ServiceKey;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import revproxy.protocol.Packet;
import revproxy.routee.Routee;

/**
 * The proxy's stand-in for one legacy TCP server (the tutorial's {@code server.py}, or our {@code
 * server} role): a routee of its policy, registered under the same key as the HashWorkers, so one
 * round robin covers both.
 *
 * <p>The original server registers before it listens, serves one connection at a time and breaks
 * when two messages arrive in one read. So this actor keeps persistent connections (one {@link
 * LegacyConnection} child each) with exactly one request in flight on each, as many as its {@link
 * AdaptivePool} says (learnt for a server that did not say how many it serves), and is in the
 * receptionist only while at least one is up. While none is up, a single connection probes the
 * server, with one {@link ReconnectBackoff} for the whole backend; only once the server answers are
 * the others opened, so a server that is down, or a registration that names a closed port, costs
 * one connection attempt at a time. A request it cannot serve (down, busy, no reply in time) is
 * answered {@link Routee.Unavailable}, and the router tries the next routee; so is every request
 * while the server is unproven ({@link FirstAnswer}): it would wait behind a server that may never
 * answer, and reach it after the router has given up on it. A server unreachable for {@code
 * forget-unreachable-after} is dropped.
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

  private final AdaptivePool<ActorRef<LegacyConnection.Command>> pool;
  private final FirstAnswer firstAnswer;
  private final LegacySettings settings;
  private final ActorRef<LegacyRegistry.Command> registry;
  private final ServiceKey<Routee.Command> key;
  private final Set<ActorRef<LegacyConnection.Command>> connecting = new HashSet<>();
  private final Set<ActorRef<LegacyConnection.Command>> up = new HashSet<>();

  /** Connections that are up and have no request in flight, the longest idle first. */
  private final Queue<ActorRef<LegacyConnection.Command>> idle = new ArrayDeque<>();

  private final WaitingRequests<Routee.Hash> waiting;
  private final ReconnectBackoff backoff;
  private boolean registered;
  private long opened;

  /** The connection spawned last (a probe, when the pool grows). */
  private ActorRef<LegacyConnection.Command> newest;

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
    this.pool =
        new AdaptivePool<>(
            connections, adaptive, settings.probeBackoff(), settings.idleCloseAfter());
    this.firstAnswer = new FirstAnswer(settings.probeTimeout());
    this.timers = timers;
    this.serverId = registration.serverId();
    this.policyId = registration.policyId();
    this.address = new InetSocketAddress(host, registration.listenPort());
    this.settings = settings;
    this.registry = registry;
    this.key = Routee.serviceKey(policyId);
    this.waiting = new WaitingRequests<>(settings.maxQueuedPerBackend(), settings.replyTimeout());
    this.backoff =
        new ReconnectBackoff(settings.reconnectMinBackoff(), settings.reconnectMaxBackoff());
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
    int wanted = up.isEmpty() ? 1 : pool.size();
    while (up.size() + connecting.size() < wanted) {
      ActorRef<LegacyConnection.Command> connection =
          Adapter.toTyped(
              Adapter.actorOf(
                  getContext(),
                  LegacyConnection.props(
                      serverId, policyId, address, settings, getContext().getSelf().narrow()),
                  "connection-" + ++opened));
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
      send(free, hash, pool.sending(free));
    } else if (!registered) {
      hash.refuse(serverId, "not connected to " + address);
    } else if (!waiting.offer(hash, System.nanoTime())) {
      hash.refuse(serverId, "busy: too many queued requests");
    } else {
      maybeGrow();
    }
    return this;
  }

  /** Requests wait for a free connection: try one more connection, if the pool may grow. */
  private void maybeGrow() {
    pool.maybeGrow(
        !up.isEmpty(),
        System.nanoTime(),
        () -> {
          int before = connecting.size();
          open();
          return connecting.size() > before ? newest : null;
        });
  }

  private Behavior<Routee.Command> onCloseIdle() {
    for (ActorRef<LegacyConnection.Command> connection :
        pool.idleTooLong(List.copyOf(idle), System.nanoTime())) {
      idle.remove(connection);
      up.remove(connection);
      getContext().stop(connection);
    }
    return this;
  }

  /** Sends {@code hash} on {@code connection}, with the probe's timeout when it is one. */
  private void send(
      ActorRef<LegacyConnection.Command> connection, Routee.Hash hash, boolean probing) {
    firstAnswer.sent(System.nanoTime());
    connection.tell(
        new LegacyConnection.Send(
            hash, probing ? settings.probeTimeout() : settings.replyTimeout()));
  }

  private boolean unproven() {
    return firstAnswer.unproven(System.nanoTime());
  }

  private void refuseWaiting(String reason) {
    waiting.drain(hash -> hash.refuse(serverId, reason));
  }

  private String unprovenReason() {
    return "no answer yet: its first request has waited more than "
        + settings.probeTimeout().toMillis()
        + " ms";
  }

  private Behavior<Routee.Command> onReady(Ready ready) {
    ActorRef<LegacyConnection.Command> connection = ready.connection();
    if (ready.answered()) {
      firstAnswer.answered();
    }
    if (connecting.remove(connection)) {
      up.add(connection);
      backoff.reset();
      getContext().getLog().debug("Connected to legacy server {} at {}", serverId, address);
      updateRegistration(null);
      open();
    }
    if (!up.contains(connection)) {
      return this; // a connection of an instance before a restart
    }
    if (unproven()) {
      refuseWaiting(unprovenReason());
    }
    Routee.Hash next =
        waiting.nextFresh(
            System.nanoTime(),
            stale -> stale.refuse(serverId, "waited too long for a free connection"));
    if (next != null) {
      boolean probing = pool.sending(connection);
      send(connection, next, probing);
      if (!probing && pool.proven(connection)) {
        getContext()
            .getLog()
            .debug("Legacy server {} serves {} connection(s)", serverId, pool.size());
        maybeGrow();
      }
    } else {
      pool.idle(connection, System.nanoTime());
      idle.add(connection);
    }
    return this;
  }

  private Behavior<Routee.Command> onConnectionDown(ConnectionDown down) {
    ActorRef<LegacyConnection.Command> connection = down.connection();
    // It refuses what was sent to it meanwhile, and stops on this: nothing sent to it is lost.
    connection.tell(LegacyConnection.Release.INSTANCE);
    boolean wasUp = up.remove(connection);
    if (!wasUp && !connecting.remove(connection)) {
      return this; // a connection of an instance before a restart
    }
    if (wasUp) {
      // Its request went back to the router: a new connection is a new chance.
      firstAnswer.connectionLost();
    }
    idle.remove(connection);
    if (pool.ended(connection, wasUp, System.nanoTime())) {
      getContext()
          .getLog()
          .info(
              "Legacy server {} at {} serves {} connection(s) at once ({})",
              serverId,
              address,
              pool.size(),
              down.reason());
      return this;
    }
    updateRegistration(down.reason());
    if (!registered) {
      refuseWaiting(down.reason());
    }
    // Per connection, so DEBUG: a server of 32 connections that stops would be 32 lines. The
    // server leaving the rotation is one line.
    String what =
        wasUp
            ? "Lost a connection to legacy server {} at {}: {}"
            : "Legacy server {} at {} not reachable: {}";
    getContext().getLog().debug(what, serverId, address, down.reason());
    timers.startSingleTimer(Reconnect.INSTANCE, backoff.next());
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
    // The line first, then the receptionist: whoever sees the listing change finds it logged.
    if (anyUp && !registered) {
      getContext()
          .getLog()
          .info("Legacy server {} joins the rotation of policy {}", serverId, policyId);
      getContext()
          .getSystem()
          .receptionist()
          .tell(Receptionist.register(key, getContext().getSelf()));
      timers.cancel(Forget.INSTANCE);
      registry.tell(new LegacyRegistry.Reachability(getContext().getSelf(), true));
    } else if (!anyUp && registered) {
      getContext()
          .getLog()
          .info("Legacy server {} leaves the rotation of policy {}: {}", serverId, policyId, lost);
      deregister();
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
}
