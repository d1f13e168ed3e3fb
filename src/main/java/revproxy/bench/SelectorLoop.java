package revproxy.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import javax.net.ssl.SSLException;
import org.HdrHistogram.Histogram;

/**
 * One selector thread and the connections it drives: opens them (a few at a time), starts requests
 * (closed loop: as the connections have room; open loop: as the {@link OpenLoopSchedule} makes them
 * due), times out what gets no reply, and decides when its part of the run is over. Everything it
 * counts is its own until the thread ends, so nothing is shared per reply; only the progress
 * counters are read from another thread.
 */
final class SelectorLoop implements Runnable {

  /** When the run's phases start and end, the same for every loop, fixed once all are connected. */
  record Timeline(long start, long measureStart, long end) {}

  /**
   * This loop's part of the run: its load and idle connections, with --requests how many it sends
   * after the warmup (else 0), and open loop its rate (else 0).
   */
  record Share(int connections, int idleConnections, long requests, double rate) {}

  /** Latency histogram range: 1 microsecond to 1 hour, 3 significant digits. */
  static final long MAX_LATENCY_MICROS = TimeUnit.HOURS.toMicros(1);

  private static final long HOUSEKEEPING_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
  private static final long ONE_MILLI = TimeUnit.MILLISECONDS.toNanos(1);

  /**
   * Connects in progress per thread: a listen backlog of 100 overflows if 1000 SYNs come at once.
   */
  private static final int MAX_PENDING_CONNECTS = 64;

  final int index;
  final BenchSettings settings;
  final RequestPool pool;

  /** Where the connections go: the proxies in order, or the one server. */
  final List<InetSocketAddress> targets;

  final Problems problems;
  final Selector selector;

  /** Open loop: when each request is due; null in a closed loop. */
  final OpenLoopSchedule schedule;

  private final CountDownLatch connected;
  private final LoadConnection[] active;
  private final List<IdleConnection> idle = new ArrayList<>();
  private final long quota;

  final Outcomes measured = new Outcomes();
  final Outcomes warmup = new Outcomes();
  final Histogram latency = new Histogram(MAX_LATENCY_MICROS, 3);
  private final AtomicLong completedCounter = new AtomicLong();
  private final AtomicLong failedCounter = new AtomicLong();

  /** Checks the replies of the loop's connections, one at a time. */
  final ReplyCheck replies;

  /** Scratch space of the connections, used by one at a time. */
  final byte[] digits = new byte[RequestPool.Digits.MAX];

  final ByteBuffer idleScratch = ByteBuffer.allocate(4096);

  /** Connections to open, load ({@link LoadConnection}) and idle ({@link IdleConnection}). */
  final ArrayDeque<Object> toConnect = new ArrayDeque<>();

  /** Connections with requests written since their last flush. */
  final List<LoadConnection> dirty = new ArrayList<>();

  private long completed;
  private long failed;
  long connectionErrors;

  /** Connections that moved to the next proxy after failing or breaking (--proxy). */
  long failovers;

  /** Requests written again on the next proxy's connection after a failover. */
  long resent;

  long malformed;
  int idleOpen;
  int idleFailed;
  int idleClosed;
  long lastMeasuredReply;
  long measuredCpuNanos;
  boolean stalled;
  volatile Throwable failure;

  int pendingConnects;

  /** Connections (active and idle) whose first connect has not succeeded or failed yet. */
  int unresolved;

  private boolean reportedConnected;
  private volatile Timeline timeline;

  /** This thread's copy of the timeline, once it is known. */
  Timeline time;

  private boolean kicked;
  private boolean measuring;
  private long cpuAtMeasureStart;

  /** Requests sent or scheduled that have no outcome yet. */
  long outstanding;

  long measuredSent;
  boolean sendingStopped;
  private long stopTime;
  long lastProgress;
  private boolean finished;

  /** Open loop: when the timer thread must wake the selector next. */
  private volatile long wakeAt = Long.MAX_VALUE;

  private volatile boolean done;

  /**
   * Loop {@code index} of {@code settings.threads()}; its load connections are numbered {@code
   * index}, {@code index + threads}, ... so that ids are unique over the run. {@code connected} is
   * counted down once every connection of this loop has opened or failed.
   */
  SelectorLoop(
      int index,
      Share share,
      BenchSettings settings,
      RequestPool pool,
      List<InetSocketAddress> targets,
      Problems problems,
      CountDownLatch connected) {
    this.index = index;
    this.settings = settings;
    this.pool = pool;
    this.targets = targets;
    this.problems = problems;
    this.replies = new ReplyCheck(pool, problems);
    this.connected = connected;
    try {
      this.selector = Selector.open();
    } catch (IOException e) {
      throw new IllegalStateException("cannot open a selector", e);
    }
    this.quota = share.requests();
    this.schedule =
        share.rate() > 0 ? new OpenLoopSchedule(share.rate(), share.connections()) : null;
    this.active = new LoadConnection[share.connections()];
    int threads = settings.threads();
    for (int i = 0; i < active.length; i++) {
      active[i] = new LoadConnection(this, index + i * threads);
      toConnect.add(active[i]);
    }
    for (int i = 0; i < share.idleConnections(); i++) {
      IdleConnection conn =
          new IdleConnection(this, targets.get((index + i * threads) % targets.size()));
      idle.add(conn);
      toConnect.add(conn);
    }
    unresolved = active.length + share.idleConnections();
  }

  /** Starts the clock: from another thread, once every loop is connected. */
  void begin(Timeline timeline) {
    this.timeline = timeline;
    selector.wakeup();
  }

  /** Replies so far, for progress lines from another thread. */
  long completed() {
    return completedCounter.get();
  }

  /** Requests failed so far, for progress lines from another thread. */
  long failed() {
    return failedCounter.get();
  }

  @Override
  public void run() {
    Thread timer = null;
    if (schedule != null) {
      timer = new Thread(this::wakeForSlots, "bench-timer-" + index);
      timer.setDaemon(true);
      timer.start();
    }
    try {
      loop();
    } catch (Throwable t) {
      failure = t;
    } finally {
      done = true;
      if (timer != null) {
        LockSupport.unpark(timer);
      }
      if (!reportedConnected) {
        connected.countDown();
      }
      for (LoadConnection conn : active) {
        conn.close();
      }
      for (IdleConnection conn : idle) {
        conn.close();
      }
      try {
        selector.close();
      } catch (IOException ignored) {
        // nothing left to release
      }
    }
  }

  private void loop() throws IOException {
    ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
    long nextHousekeeping = 0;
    while (true) {
      long now = System.nanoTime();
      if (time == null) {
        time = timeline;
        if (time != null) {
          lastProgress = now;
          if (schedule != null) {
            schedule.start(time.start());
          }
        }
      }
      if (time != null) {
        if (!measuring && now >= time.measureStart()) {
          measuring = true;
          cpuAtMeasureStart = cpu.getCurrentThreadCpuTime();
        }
        if (!kicked) {
          kicked = true;
          for (LoadConnection conn : active) {
            conn.sendMore(now);
          }
        }
        if (schedule != null && !sendingStopped) {
          schedule(now);
          wakeAt = sendingStopped ? Long.MAX_VALUE : schedule.nextDue();
        }
      }
      if (now >= nextHousekeeping) {
        housekeeping(now);
        nextHousekeeping = now + HOUSEKEEPING_NANOS;
      }
      flushDirty();
      if (finished) {
        break;
      }
      // Open loop: the timer thread wakes the selector when the next request is due.
      long wait = nextHousekeeping - now;
      if (time == null) {
        wait = Math.min(wait, 5 * ONE_MILLI);
      }
      if (wait <= 0) {
        selector.selectNow();
      } else {
        selector.select(Math.max(1, wait / ONE_MILLI));
      }
      Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
      while (keys.hasNext()) {
        SelectionKey key = keys.next();
        keys.remove();
        if (key.attachment() instanceof LoadConnection conn) {
          conn.onReady(key);
        } else {
          ((IdleConnection) key.attachment()).onReady(key);
        }
      }
    }
    measuredCpuNanos = measuring ? cpu.getCurrentThreadCpuTime() - cpuAtMeasureStart : 0;
  }

  /**
   * Open loop, on a thread of its own: wakes the selector when the next request is due. Selector
   * timeouts are whole milliseconds, and a reply must never wait for a sleeping loop, so the loop
   * blocks in select() and this thread interrupts it on time.
   */
  private void wakeForSlots() {
    while (!done) {
      long due = wakeAt;
      long delay = due - System.nanoTime();
      if (delay > 0) {
        LockSupport.parkNanos(Math.min(delay, 10 * ONE_MILLI));
        continue;
      }
      selector.wakeup();
      while (!done && wakeAt == due) {
        LockSupport.parkNanos(10_000);
      }
    }
  }

  /** Open loop: hands every request whose due time has come to its connection. */
  private void schedule(long now) {
    long due;
    while ((due = schedule.nextDue()) <= now) {
      if (settings.byRequestCount()) {
        if (due >= time.measureStart()) {
          if (measuredSent >= quota) {
            stopSending(now);
            return;
          }
          measuredSent++;
        }
      } else if (due >= time.end()) {
        stopSending(now);
        return;
      }
      long slot = schedule.take();
      outstanding++;
      active[schedule.connectionOf(slot)].enqueue(slot, now);
    }
  }

  /** Closed loop: whether one more request may be started now. */
  boolean mayStart(long now) {
    if (sendingStopped || time == null) {
      return false;
    }
    if (settings.byRequestCount()) {
      if (now >= time.measureStart()) {
        if (measuredSent >= quota) {
          stopSending(now);
          return false;
        }
      }
    } else if (now >= time.end()) {
      stopSending(now);
      return false;
    }
    return true;
  }

  private void stopSending(long now) {
    if (!sendingStopped) {
      sendingStopped = true;
      stopTime = now;
    }
  }

  private void housekeeping(long now) throws IOException {
    for (LoadConnection conn : active) {
      conn.checkTimers(now);
    }
    for (IdleConnection conn : idle) {
      conn.checkConnectTimeout(now);
    }
    while (pendingConnects < MAX_PENDING_CONNECTS && !toConnect.isEmpty()) {
      Object next = toConnect.poll();
      if (next instanceof LoadConnection conn) {
        conn.connect(now);
      } else {
        ((IdleConnection) next).connect(now);
      }
    }
    if (unresolved == 0 && !reportedConnected) {
      reportedConnected = true;
      connected.countDown();
    }
    if (time == null) {
      return;
    }
    if (!settings.byRequestCount() && now >= time.end()) {
      stopSending(now);
    }
    // Nothing has come back for a long time although something is due or a connection is
    // down: stop instead of retrying forever (a --requests run has no end time of its own).
    if (!sendingStopped
        && now - lastProgress > 2 * settings.timeout().toNanos()
        && (outstanding > 0 || anyConnectionDown())) {
      stalled = true;
      problems.add(
          "no reply and no connection for " + 2 * settings.timeout().toMillis() + " ms: giving up");
      stopSending(now);
    }
    if (sendingStopped) {
      if (outstanding == 0) {
        finished = true;
      } else if (now - stopTime > settings.timeout().toNanos()) {
        for (LoadConnection conn : active) {
          conn.giveUp();
        }
        finished = true;
      }
    }
  }

  private boolean anyConnectionDown() {
    for (LoadConnection conn : active) {
      if (!conn.isOpen()) {
        return true;
      }
    }
    return false;
  }

  private void flushDirty() {
    for (int i = 0; i < dirty.size(); i++) {
      dirty.get(i).flushWritten();
    }
    dirty.clear();
  }

  /** The phase a request belongs to, by the time it was due. */
  Outcomes phaseOf(long intended) {
    return intended < time.measureStart() ? warmup : measured;
  }

  void counted(boolean ok) {
    completed++;
    completedCounter.lazySet(completed);
    if (!ok) {
      failed++;
      failedCounter.lazySet(failed);
    }
  }

  void failedWithoutReply(long n) {
    failed += n;
    failedCounter.lazySet(failed);
  }

  /** A connected channel through TLS to {@code target}, checking its certificate (--tls). */
  TlsChannel tlsChannel(SocketChannel channel, InetSocketAddress target) throws SSLException {
    return new TlsChannel(
        channel, settings.tls().get().clientEngine(target.getHostString(), target.getPort()));
  }
}
