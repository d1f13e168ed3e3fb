package revproxy.legacy;

import static revproxy.cluster.Completions.SAME_THREAD;
import static revproxy.cluster.Completions.rootMessage;

import akka.Done;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.PreRestart;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.actor.typed.receptionist.Receptionist;
import akka.actor.typed.receptionist.ServiceKey;
import akka.japi.Pair;
import akka.stream.BoundedSourceQueue;
import akka.stream.QueueOfferResult;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.stream.javadsl.Tcp;
import akka.util.ByteString;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import revproxy.protocol.Packet;
import revproxy.protocol.PacketCodec;
import revproxy.protocol.PacketFraming;
import revproxy.worker.HashWorker;

/**
 * The proxy's stand-in for one legacy TCP server (the tutorial's {@code server.py}, or our {@code
 * server} role): a routee of its policy, registered under the same key as the HashWorkers, so one
 * round robin covers both.
 *
 * <p>The original server registers before it listens, serves one connection at a time and breaks
 * when two messages arrive in one read. So this actor connects in the background with backoff,
 * keeps persistent connections ({@code connections-per-backend}, or as many as the server says it
 * serves at once, up to {@code max-connections-per-backend}) with exactly one request in flight
 * on each, and is in the receptionist only while at least one connection is up. A request it
 * cannot serve (down, busy, no reply in time) is answered {@link HashWorker.Unavailable}, and the
 * router tries the next routee. A connection whose reply is late is closed, since a late reply
 * could otherwise be taken for the next request's.
 */
public final class LegacyBackend extends AbstractBehavior<HashWorker.Command> {


  /**
   * Connection generations, unique across backends and their restarts: a message about an old
   * connection must never match a new one.
   */
  private static final AtomicLong GENERATIONS = new AtomicLong();

  private static long nextGeneration() {
    return GENERATIONS.incrementAndGet();
  }

  /** A request waiting for a free connection, since when. */
  private record Queued(HashWorker.Hash hash, long sinceNanos) {}

  private record ConnectionUp(int slot, long generation) implements HashWorker.Command {}

  private record ConnectionDown(int slot, long generation, String reason)
      implements HashWorker.Command {}

  private record ServerReplied(int slot, long generation, Packet reply)
      implements HashWorker.Command {}

  private record ReplyTimedOut(int slot, long generation, long request)
      implements HashWorker.Command {}

  private record Reconnect(int slot) implements HashWorker.Command {}

  /** The server has been unreachable for {@code forget-unreachable-after}. */
  private enum Forget implements HashWorker.Command {
    INSTANCE
  }

  /** One persistent connection to the server. */
  private static final class Slot {
    final int index;
    long generation;
    BoundedSourceQueue<ByteString> outbox;
    boolean up;
    HashWorker.Hash inFlight;
    long requests;
    Duration backoff;

    Slot(int index, Duration backoff) {
      this.index = index;
      this.backoff = backoff;
    }
  }

  /**
   * A backend keeping {@code connections} connections to the server of {@code registration} at
   * {@code host}; it tells {@code registry} when the server becomes reachable or unreachable.
   */
  public static Behavior<HashWorker.Command> create(
      Packet.Registration registration,
      String host,
      int connections,
      LegacySettings settings,
      ActorRef<LegacyRegistry.Command> registry) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers ->
                    new LegacyBackend(
                        context, timers, registration, host, connections, settings, registry)));
  }

  private final TimerScheduler<HashWorker.Command> timers;
  private final String serverId;
  private final String policyId;
  private final InetSocketAddress address;
  private final LegacySettings settings;
  private final ServiceKey<HashWorker.Command> key;
  private final Slot[] slots;
  private final Queue<Queued> waiting = new ArrayDeque<>();
  private final ActorRef<LegacyRegistry.Command> registry;
  private boolean registered;

  private LegacyBackend(
      ActorContext<HashWorker.Command> context,
      TimerScheduler<HashWorker.Command> timers,
      Packet.Registration registration,
      String host,
      int connections,
      LegacySettings settings,
      ActorRef<LegacyRegistry.Command> registry) {
    super(context);
    this.registry = registry;
    this.timers = timers;
    this.serverId = registration.serverId();
    this.policyId = registration.policyId();
    this.address = new InetSocketAddress(host, registration.listenPort());
    this.settings = settings;
    this.key = HashWorker.serviceKey(policyId);
    this.slots = new Slot[connections];
    for (int i = 0; i < slots.length; i++) {
      slots[i] = new Slot(i, settings.reconnectMinBackoff());
      connect(slots[i]);
    }
    startForgetTimer();
  }

  private void startForgetTimer() {
    if (!settings.forgetUnreachableAfter().isZero()) {
      timers.startSingleTimer(Forget.INSTANCE, Forget.INSTANCE, settings.forgetUnreachableAfter());
    }
  }

  @Override
  public Receive<HashWorker.Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(HashWorker.Hash.class, this::onHash)
        .onMessage(ConnectionUp.class, this::onConnectionUp)
        .onMessage(ConnectionDown.class, this::onConnectionDown)
        .onMessage(ServerReplied.class, this::onServerReplied)
        .onMessage(ReplyTimedOut.class, this::onReplyTimedOut)
        .onMessage(Reconnect.class, reconnect -> {
          connect(slots[reconnect.slot()]);
          return this;
        })
        .onMessage(Forget.class, this::onForget)
        .onSignal(PostStop.class, stop -> closeAll())
        .onSignal(
            PreRestart.class,
            restart -> {
              // The ref outlives the restart, and the new instance starts unregistered.
              getContext().getSystem().receptionist().tell(Receptionist.deregister(key, getContext().getSelf()));
              return closeAll();
            })
        .build();
  }

  /** Unreachable for too long: stop, so the registry drops the server and frees its slot. */
  private Behavior<HashWorker.Command> onForget(Forget forget) {
    getContext()
        .getLog()
        .info(
            "Legacy server {} at {} unreachable for {} s: dropped; it may register again",
            serverId,
            address,
            settings.forgetUnreachableAfter().toSeconds());
    return Behaviors.stopped();
  }

  private Behavior<HashWorker.Command> closeAll() {
    for (Slot slot : slots) {
      close(slot);
    }
    return this;
  }

  private void connect(Slot slot) {
    long generation = nextGeneration();
    slot.generation = generation;
    int index = slot.index;
    // The sink runs on a stream thread: it may use the ActorRef, never the ActorContext.
    ActorRef<HashWorker.Command> self = getContext().getSelf();
    Pair<Pair<BoundedSourceQueue<ByteString>, CompletionStage<Tcp.OutgoingConnection>>, CompletionStage<Done>> running =
        Source.<ByteString>queue(2)
            .viaMat(
                Tcp.get(getContext().getSystem())
                    .outgoingConnection(
                        address,
                        Optional.empty(),
                        List.of(),
                        false,
                        Optional.of(settings.connectTimeout()),
                        Optional.empty()),
                Keep.both())
            .via(PacketFraming.flow(settings.maxReplyBytes()))
            .map(PacketCodec::decode)
            .toMat(
                Sink.foreach(
                    reply -> self.tell(new ServerReplied(index, generation, reply))),
                Keep.both())
            .run(getContext().getSystem());
    slot.outbox = running.first().first();
    // Not pipeToSelf: its whenComplete on Akka's CompletionStage would start a thread per call.
    running
        .first()
        .second()
        .whenCompleteAsync(
            (connection, failure) ->
                self.tell(
                    connection != null
                        ? new ConnectionUp(index, generation)
                        : new ConnectionDown(index, generation, rootMessage(failure))),
            SAME_THREAD);
    running
        .second()
        .whenCompleteAsync(
            (done, failure) ->
                self.tell(
                    new ConnectionDown(
                        index,
                        generation,
                        failure == null ? "closed by the server" : rootMessage(failure))),
            SAME_THREAD);
  }

  private Behavior<HashWorker.Command> onHash(HashWorker.Hash hash) {
    for (Slot slot : slots) {
      if (slot.up && slot.inFlight == null) {
        send(slot, hash);
        return this;
      }
    }
    if (!registered) {
      hash.refuse(serverId, "not connected to " + address);
    } else if (waiting.size() >= settings.maxQueuedPerBackend()) {
      hash.refuse(serverId, "busy: too many queued requests");
    } else {
      waiting.add(new Queued(hash, System.nanoTime()));
    }
    return this;
  }

  private void send(Slot slot, HashWorker.Hash hash) {
    slot.inFlight = hash;
    slot.requests++;
    ByteString request =
        PacketCodec.encode(new Packet.Request(hash.srcid(), policyId, hash.payload()));
    if (slot.outbox.offer(request) != QueueOfferResult.enqueued()) {
      down(slot, "could not write the request");
      return;
    }
    timers.startSingleTimer(
        slot, new ReplyTimedOut(slot.index, slot.generation, slot.requests), settings.replyTimeout());
  }

  private Behavior<HashWorker.Command> onServerReplied(ServerReplied replied) {
    Slot slot = slots[replied.slot()];
    if (replied.generation() != slot.generation) {
      return this;
    }
    HashWorker.Hash hash = slot.inFlight;
    if (hash == null) {
      down(slot, "the server sent data nobody asked for");
      return this;
    }
    timers.cancel(slot);
    slot.inFlight = null;
    if (replied.reply() instanceof Packet.Reply reply) {
      hash.answer(serverId, reply.payloadHash());
    } else {
      hash.refuse(serverId, "the server did not answer with a type \"2\" reply");
    }
    feed(slot);
    return this;
  }

  private Behavior<HashWorker.Command> onReplyTimedOut(ReplyTimedOut timedOut) {
    Slot slot = slots[timedOut.slot()];
    if (timedOut.generation() == slot.generation && timedOut.request() == slot.requests) {
      down(slot, "no reply within " + settings.replyTimeout().toMillis() + " ms");
    }
    return this;
  }

  private Behavior<HashWorker.Command> onConnectionUp(ConnectionUp up) {
    Slot slot = slots[up.slot()];
    if (up.generation() != slot.generation) {
      return this;
    }
    slot.up = true;
    slot.backoff = settings.reconnectMinBackoff();
    getContext().getLog().debug("Connected to legacy server {} at {}", serverId, address);
    updateRegistration();
    feed(slot);
    return this;
  }

  private Behavior<HashWorker.Command> onConnectionDown(ConnectionDown down) {
    Slot slot = slots[down.slot()];
    if (down.generation() == slot.generation && slot.outbox != null) {
      down(slot, down.reason());
    }
    return this;
  }

  /** Takes a connection down: its request goes back to the router, and it reconnects later. */
  private void down(Slot slot, String reason) {
    boolean wasUp = slot.up;
    close(slot);
    slot.generation = nextGeneration();
    slot.up = false;
    timers.cancel(slot);
    if (slot.inFlight != null) {
      slot.inFlight.refuse(serverId, reason);
      slot.inFlight = null;
    }
    updateRegistration();
    if (!registered) {
      while (!waiting.isEmpty()) {
        waiting.poll().hash().refuse(serverId, reason);
      }
    }
    if (wasUp) {
      getContext()
          .getLog()
          .warn("Lost legacy server {} at {}: {}; reconnecting", serverId, address, reason);
    } else {
      getContext()
          .getLog()
          .debug("Legacy server {} at {} not reachable: {}", serverId, address, reason);
    }
    timers.startSingleTimer(new Reconnect(slot.index), slot.backoff);
    slot.backoff = min(slot.backoff.multipliedBy(2), settings.reconnectMaxBackoff());
  }

  private static void close(Slot slot) {
    if (slot.outbox != null) {
      try {
        slot.outbox.fail(new IllegalStateException("connection closed by the proxy"));
      } catch (IllegalStateException streamAlreadyEnded) {
        // the connection failed or was closed by the server first: nothing left to close
      }
      slot.outbox = null;
    }
  }

  /**
   * Sends the next queued request. One that waited longer than {@code reply-timeout} is handed
   * back instead: the router has retried it elsewhere by then, and it would delay fresh work.
   */
  private void feed(Slot slot) {
    long now = System.nanoTime();
    while (slot.up && slot.inFlight == null && !waiting.isEmpty()) {
      Queued next = waiting.poll();
      if (now - next.sinceNanos() > settings.replyTimeout().toNanos()) {
        next.hash().refuse(serverId, "waited too long for a free connection");
      } else {
        send(slot, next.hash());
      }
    }
  }

  /** In the receptionist exactly while at least one connection is up. */
  private void updateRegistration() {
    boolean anyUp = false;
    for (Slot slot : slots) {
      anyUp |= slot.up;
    }
    if (anyUp && !registered) {
      getContext().getSystem().receptionist().tell(Receptionist.register(key, getContext().getSelf()));
      getContext().getLog().info("Legacy server {} joins the rotation of policy {}", serverId, policyId);
      timers.cancel(Forget.INSTANCE);
      registry.tell(new LegacyRegistry.Reachability(getContext().getSelf(), true));
    } else if (!anyUp && registered) {
      getContext().getSystem().receptionist().tell(Receptionist.deregister(key, getContext().getSelf()));
      getContext().getLog().info("Legacy server {} leaves the rotation of policy {}", serverId, policyId);
      startForgetTimer();
      registry.tell(new LegacyRegistry.Reachability(getContext().getSelf(), false));
    }
    registered = anyUp;
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

}
