package revproxy.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import javax.net.ssl.SSLException;
import org.HdrHistogram.Histogram;

/**
 * A verifying load generator for the proxy's wire protocol, like wrk or hey: many connections,
 * each closed loop (keeps {@code pipeline} requests in flight) or open loop (requests at scheduled
 * times, {@code rate} per second in all, latency counted from the scheduled time so a stalled
 * server cannot hide its stalls: no coordinated omission).
 *
 * <p>It shares the machine with the proxy, so it is built to be cheap: plain NIO, one selector
 * thread by default for every connection, requests written from prepared byte pieces, replies
 * framed and checked in place ({@link ReplyScanner}, {@link ReplyFields}) with no JSON tree and no
 * garbage per reply. Every reply is checked exactly: type "2", {@code destid} equal to the
 * request's {@code srcid}, and {@code payload} equal to the SHA-1 hex of the payload sent; replies
 * come in request order on a connection, so each reply answers the oldest request in flight.
 *
 * <p>With {@code --tls} every connection, idle ones too, reads and writes through a {@link
 * TlsChannel}, and counts as connected once its handshake is done.
 */
public final class LoadGenerator {

  /** Largest reply object accepted (the proxy's default max-packet-bytes). */
  static final int MAX_REPLY_BYTES = 65536;

  private static final long RECONNECT_DELAY_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
  private static final long HOUSEKEEPING_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
  private static final long ONE_MILLI = TimeUnit.MILLISECONDS.toNanos(1);
  /** Connects in progress per thread: a listen backlog of 100 overflows if 1000 SYNs come at once. */
  private static final int MAX_PENDING_CONNECTS = 64;
  private static final int MAX_PROBLEMS = 5;
  private static final int MAX_SAMPLE_CHARS = 300;
  /** Latency histogram range: 1 microsecond to 1 hour, 3 significant digits. */
  private static final long MAX_LATENCY_MICROS = TimeUnit.HOURS.toMicros(1);

  /** When the run's phases start and end, fixed once every connection is up. */
  private record Timeline(long start, long measureStart, long end) {}

  private final BenchSettings settings;
  private final RequestPool pool;
  private final InetSocketAddress address;
  private final List<Loop> loops = new ArrayList<>();
  private final CountDownLatch connected;
  private final List<String> problems = Collections.synchronizedList(new ArrayList<>());
  private volatile Timeline timeline;

  private LoadGenerator(BenchSettings settings) {
    this.settings = settings;
    this.pool = new RequestPool(settings.payloadBytes(), settings.policies(), 42);
    this.address = new InetSocketAddress(settings.host(), settings.port());
    if (address.isUnresolved()) {
      throw new IllegalArgumentException("cannot resolve host " + settings.host());
    }
    int threads = settings.threads();
    long totalConnections = (long) settings.connections();
    for (int t = 0; t < threads; t++) {
      int active = share(settings.connections(), threads, t);
      int idle = share(settings.idleConnections(), threads, t);
      long quota = settings.byRequestCount() ? share(settings.requests(), threads, t) : 0;
      double rate =
          settings.openLoop() && active > 0 ? settings.rate() * active / totalConnections : 0;
      loops.add(new Loop(t, active, idle, quota, rate));
    }
    connected = new CountDownLatch(threads);
  }

  /**
   * Runs the load described by {@code settings} and returns what happened. Progress lines, one a
   * second, go to {@code progress} when it is not null.
   */
  public static BenchResult run(BenchSettings settings, PrintStream progress)
      throws InterruptedException {
    return new LoadGenerator(settings).run(progress);
  }

  private BenchResult run(PrintStream progress) throws InterruptedException {
    List<Thread> threads = new ArrayList<>();
    for (Loop loop : loops) {
      Thread thread = new Thread(loop, "bench-loop-" + loop.index);
      thread.setDaemon(true);
      threads.add(thread);
      thread.start();
    }
    // Every connection is opened (or has failed) before the clock starts.
    long connectWait = settings.connectTimeout().toMillis() + 5_000;
    if (!connected.await(connectWait, TimeUnit.MILLISECONDS)) {
      problems.add("connecting took longer than " + connectWait + " ms");
    }
    long start = System.nanoTime();
    long measureStart = start + settings.warmup().toNanos();
    long end = settings.byRequestCount() ? Long.MAX_VALUE : measureStart + settings.duration().toNanos();
    timeline = new Timeline(start, measureStart, end);
    for (Loop loop : loops) {
      loop.selector.wakeup();
    }

    long lastCompleted = 0;
    long lastTime = start;
    for (Thread thread : threads) {
      while (thread.isAlive()) {
        thread.join(1000);
        long now = System.nanoTime();
        if (progress != null && now - lastTime >= 900_000_000L) {
          long completed = 0;
          long failed = 0;
          for (Loop loop : loops) {
            completed += loop.completedCounter.get();
            failed += loop.failedCounter.get();
          }
          double rate = (completed - lastCompleted) * 1e9 / (now - lastTime);
          String phase = now < measureStart ? "warmup" : now < end ? "running" : "draining";
          progress.printf(
              "%6.1fs  %-8s %,10.0f req/s  %,d replies  %,d failed%n",
              (now - start) / 1e9, phase, rate, completed, failed);
          lastCompleted = completed;
          lastTime = now;
        }
      }
    }
    return result(measureStart);
  }

  private BenchResult result(long measureStart) {
    Outcomes measured = new Outcomes();
    Outcomes warmup = new Outcomes();
    Histogram latency = new Histogram(MAX_LATENCY_MICROS, 3);
    long lastReply = measureStart;
    long connectionErrors = 0;
    long malformed = 0;
    int idleOpen = 0;
    int idleFailed = 0;
    int idleClosed = 0;
    long cpuNanos = 0;
    boolean stalled = false;
    for (Loop loop : loops) {
      if (loop.failure != null) {
        throw new IllegalStateException("load thread failed: " + loop.failure, loop.failure);
      }
      measured.addAll(loop.measured);
      warmup.addAll(loop.warmup);
      latency.add(loop.latency);
      lastReply = Math.max(lastReply, loop.lastMeasuredReply);
      connectionErrors += loop.connectionErrors;
      malformed += loop.malformed;
      idleOpen += loop.idleOpen;
      idleFailed += loop.idleFailed;
      idleClosed += loop.idleClosed;
      cpuNanos += loop.measuredCpuNanos;
      stalled |= loop.stalled;
    }
    return new BenchResult(
        settings,
        measured,
        warmup,
        latency,
        (lastReply - measureStart) / 1e9,
        connectionErrors,
        malformed,
        idleOpen,
        idleFailed,
        idleClosed,
        cpuNanos / 1e9,
        stalled,
        List.copyOf(problems));
  }

  private void problem(String text) {
    if (problems.size() < MAX_PROBLEMS) {
      problems.add(text.length() > MAX_SAMPLE_CHARS ? text.substring(0, MAX_SAMPLE_CHARS) + "..." : text);
    }
  }

  /** Part {@code index} of {@code total} split into {@code parts} near-equal parts. */
  private static int share(long total, int parts, int index) {
    return (int) (total / parts + (index < total % parts ? 1 : 0));
  }

  private enum State {
    WAITING,
    CONNECTING,
    OPEN,
    CLOSED
  }

  /** One selector thread and the connections it drives. */
  private final class Loop implements Runnable {
    final int index;
    final Selector selector;
    final Conn[] active;
    final List<IdleConn> idle = new ArrayList<>();
    final long quota;
    final double intervalNanos;

    final Outcomes measured = new Outcomes();
    final Outcomes warmup = new Outcomes();
    final Histogram latency = new Histogram(MAX_LATENCY_MICROS, 3);
    final AtomicLong completedCounter = new AtomicLong();
    final AtomicLong failedCounter = new AtomicLong();
    final ReplyFields fields = new ReplyFields();
    final byte[] digits = new byte[RequestPool.Digits.MAX];
    final byte[] expectedSrcid = new byte[32];
    final ArrayDeque<Object> toConnect = new ArrayDeque<>();
    final List<Conn> dirty = new ArrayList<>();
    final ByteBuffer idleScratch = ByteBuffer.allocate(4096);

    long completed;
    long failed;
    long connectionErrors;
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
    boolean reportedConnected;
    Timeline time;
    boolean kicked;
    boolean measuring;
    long cpuAtMeasureStart;
    /** Requests sent or scheduled that have no outcome yet. */
    long outstanding;
    long measuredSent;
    boolean sendingStopped;
    long stopTime;
    long lastProgress;
    boolean finished;
    long nextSlot;
    long nextSlotTime;
    /** Open loop: when the timer thread must wake the selector next. */
    volatile long wakeAt = Long.MAX_VALUE;
    volatile boolean done;

    Loop(int index, int activeCount, int idleCount, long quota, double rate) {
      this.index = index;
      try {
        this.selector = Selector.open();
      } catch (IOException e) {
        throw new IllegalStateException("cannot open a selector", e);
      }
      this.quota = quota;
      this.intervalNanos = rate > 0 ? 1e9 / rate : 0;
      this.active = new Conn[activeCount];
      int threads = settings.threads();
      for (int i = 0; i < activeCount; i++) {
        active[i] = new Conn(this, index + i * threads, i);
        toConnect.add(active[i]);
      }
      for (int i = 0; i < idleCount; i++) {
        IdleConn conn = new IdleConn(this);
        idle.add(conn);
        toConnect.add(conn);
      }
      unresolved = activeCount + idleCount;
    }

    @Override
    public void run() {
      Thread timer = null;
      if (intervalNanos > 0) {
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
        for (Conn conn : active) {
          conn.close();
        }
        for (IdleConn conn : idle) {
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
          }
        }
        if (time != null) {
          if (!measuring && now >= time.measureStart) {
            measuring = true;
            cpuAtMeasureStart = cpu.getCurrentThreadCpuTime();
          }
          if (!kicked) {
            kicked = true;
            for (Conn conn : active) {
              conn.sendMore(now);
            }
          }
          if (intervalNanos > 0 && !sendingStopped) {
            schedule(now);
            wakeAt = sendingStopped ? Long.MAX_VALUE : nextSlotTime;
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
          if (key.attachment() instanceof Conn conn) {
            conn.onReady(key);
          } else {
            ((IdleConn) key.attachment()).onReady(key);
          }
        }
      }
      measuredCpuNanos = measuring ? cpu.getCurrentThreadCpuTime() - cpuAtMeasureStart : 0;
    }

    /**
     * Open loop, on a thread of its own: wakes the selector when the next request is due.
     * Selector timeouts are whole milliseconds, and a reply must never wait for a sleeping loop,
     * so the loop blocks in select() and this thread interrupts it on time.
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

    /** Open loop: hands every request whose scheduled time has come to its connection. */
    private void schedule(long now) {
      while (true) {
        long slotTime = time.start + (long) (nextSlot * intervalNanos);
        if (slotTime > now) {
          nextSlotTime = slotTime;
          return;
        }
        if (settings.byRequestCount()) {
          if (slotTime >= time.measureStart) {
            if (measuredSent >= quota) {
              stopSending(now);
              return;
            }
            measuredSent++;
          }
        } else if (slotTime >= time.end) {
          stopSending(now);
          return;
        }
        Conn conn = active[(int) (nextSlot % active.length)];
        if (conn.backlog == 0) {
          conn.backlogSlot = nextSlot;
        }
        conn.backlog++;
        outstanding++;
        nextSlot++;
        conn.sendMore(now);
      }
    }

    /** Closed loop: whether one more request may be started now. */
    boolean mayStart(long now) {
      if (sendingStopped || time == null) {
        return false;
      }
      if (settings.byRequestCount()) {
        if (now >= time.measureStart) {
          if (measuredSent >= quota) {
            stopSending(now);
            return false;
          }
        }
      } else if (now >= time.end) {
        stopSending(now);
        return false;
      }
      return true;
    }

    void stopSending(long now) {
      if (!sendingStopped) {
        sendingStopped = true;
        stopTime = now;
      }
    }

    private void housekeeping(long now) throws IOException {
      for (Conn conn : active) {
        conn.checkTimers(now);
      }
      for (IdleConn conn : idle) {
        if (conn.state == State.CONNECTING
            && now - conn.connectStarted > settings.connectTimeout().toNanos()) {
          conn.failed("connect timed out after " + settings.connectTimeout().toMillis() + " ms");
        }
      }
      while (pendingConnects < MAX_PENDING_CONNECTS && !toConnect.isEmpty()) {
        Object next = toConnect.poll();
        if (next instanceof Conn conn) {
          conn.connect(now);
        } else {
          ((IdleConn) next).connect(now);
        }
      }
      if (unresolved == 0 && !reportedConnected) {
        reportedConnected = true;
        connected.countDown();
      }
      if (time == null) {
        return;
      }
      if (!settings.byRequestCount() && now >= time.end) {
        stopSending(now);
      }
      // Nothing has come back for a long time although something is due or a connection is
      // down: stop instead of retrying forever (a --requests run has no end time of its own).
      if (!sendingStopped
          && now - lastProgress > 2 * settings.timeout().toNanos()
          && (outstanding > 0 || anyConnectionDown())) {
        stalled = true;
        problem("no reply and no connection for " + 2 * settings.timeout().toMillis() + " ms: giving up");
        stopSending(now);
      }
      if (sendingStopped) {
        if (outstanding == 0) {
          finished = true;
        } else if (now - stopTime > settings.timeout().toNanos()) {
          for (Conn conn : active) {
            conn.giveUp();
          }
          finished = true;
        }
      }
    }

    private boolean anyConnectionDown() {
      for (Conn conn : active) {
        if (conn.state != State.OPEN) {
          return true;
        }
      }
      return false;
    }

    private void flushDirty() {
      for (int i = 0; i < dirty.size(); i++) {
        Conn conn = dirty.get(i);
        conn.dirty = false;
        conn.flush();
      }
      dirty.clear();
    }

    Outcomes phaseOf(long intended) {
      return intended < time.measureStart ? warmup : measured;
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
  }

  /** One load connection: its requests in flight, in order, and its reply bytes. */
  private final class Conn implements ReplyScanner.Handler {
    final Loop loop;
    final int id;
    /** Position in its loop, for the open-loop schedule. */
    final int slotOffset;
    final byte[] srcidPrefix;
    final int pipeline = settings.pipeline();
    final long[] intended;
    final long[] sentAt;
    final ByteBuffer out;
    final ReplyScanner in = new ReplyScanner(8192, MAX_REPLY_BYTES);

    State state = State.WAITING;
    SocketChannel channel;
    /** The channel through TLS, with --tls; else null. */
    TlsChannel tls;
    SelectionKey key;
    boolean writeInterest;
    boolean dirty;
    boolean everResolved;
    long connectStarted;
    long reconnectAt;
    /** Sequence number of the next request; the oldest in flight is {@code nextSeq - inFlight}. */
    long nextSeq;
    int inFlight;
    /** Open loop: requests scheduled but not sent yet, the oldest at schedule slot backlogSlot. */
    long backlog;
    long backlogSlot;
    long now;

    Conn(Loop loop, int id, int slotOffset) {
      this.loop = loop;
      this.id = id;
      this.slotOffset = slotOffset;
      this.srcidPrefix = ReplyFields.ascii(id + "-");
      this.intended = new long[pipeline];
      this.sentAt = new long[pipeline];
      int request = pool.maxRequestBytes();
      long wanted = (long) request * pipeline;
      this.out = ByteBuffer.allocateDirect((int) Math.max(request, Math.min(wanted, 256 * 1024)));
    }

    void connect(long now) throws IOException {
      state = State.CONNECTING;
      connectStarted = now;
      in.reset();
      out.clear();
      writeInterest = false;
      loop.pendingConnects++;
      try {
        channel = SocketChannel.open();
        channel.configureBlocking(false);
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        if (channel.connect(address)) {
          key = channel.register(loop.selector, SelectionKey.OP_READ, this);
          connected(now);
        } else {
          key = channel.register(loop.selector, SelectionKey.OP_CONNECT, this);
        }
      } catch (IOException e) {
        failed(now, describe(e));
      }
    }

    /** TCP is connected: the connection is open now, or with --tls once the handshake is done. */
    private void connected(long now) throws IOException {
      if (settings.tls().isPresent()) {
        tls = tlsChannel(channel);
        handshake(now);
      } else {
        opened(now);
      }
    }

    private void handshake(long now) throws IOException {
      if (tls.handshake(key)) {
        key.interestOps(SelectionKey.OP_READ);
        opened(now);
      }
    }

    private void opened(long now) {
      loop.pendingConnects--;
      resolved();
      state = State.OPEN;
      loop.lastProgress = Math.max(loop.lastProgress, now);
      sendMore(now);
    }

    private void resolved() {
      if (!everResolved) {
        everResolved = true;
        loop.unresolved--;
      }
    }

    void onReady(SelectionKey readyKey) {
      now = System.nanoTime();
      try {
        if (state == State.CONNECTING) {
          if (readyKey.isConnectable()) {
            channel.finishConnect();
            key.interestOps(SelectionKey.OP_READ);
            connected(now);
          } else if (tls != null) {
            handshake(now);
          }
          flush();
          return;
        }
        if (state != State.OPEN) {
          return;
        }
        if (readyKey.isReadable()) {
          int n;
          // TLS may hold more decrypted bytes than the scanner had room for: take them all.
          do {
            n = tls != null ? tls.read(in.readBuffer()) : channel.read(in.readBuffer());
            if (n < 0) {
              failed(now, "connection closed by the server");
              return;
            }
            if (!in.scan(this)) {
              loop.malformed++;
              problem("a reply larger than " + MAX_REPLY_BYTES + " bytes on connection " + id);
              failed(now, "reply too large");
              return;
            }
            if (state != State.OPEN) {
              return;
            }
          } while (n > 0 && tls != null && tls.hasBufferedInput());
          sendMore(now);
        }
        if (readyKey.isValid() && readyKey.isWritable()) {
          writeInterest = false;
          key.interestOps(SelectionKey.OP_READ);
          flush();
          sendMore(now);
        }
        if (dirty) {
          dirty = false;
          flush();
        }
      } catch (IOException e) {
        failed(now, describe(e));
      }
    }

    /** Starts what may be started: more requests (closed loop) or the backlog (open loop). */
    void sendMore(long now) {
      if (state != State.OPEN) {
        return;
      }
      int room = pool.maxRequestBytes();
      if (loop.intervalNanos > 0) {
        while (backlog > 0 && inFlight < pipeline && out.remaining() >= room) {
          long slotTime = loop.time.start + (long) (backlogSlot * loop.intervalNanos);
          send(slotTime, now);
          backlog--;
          backlogSlot += loop.active.length;
        }
      } else {
        while (inFlight < pipeline && out.remaining() >= room && loop.mayStart(now)) {
          if (now >= loop.time.measureStart) {
            loop.measuredSent++;
          }
          loop.outstanding++;
          send(now, now);
        }
      }
    }

    private void send(long intendedTime, long now) {
      long seq = nextSeq++;
      int slot = (int) (seq % pipeline);
      intended[slot] = intendedTime;
      sentAt[slot] = now;
      inFlight++;
      pool.write(out, id, srcidPrefix, seq, loop.digits);
      if (!dirty) {
        dirty = true;
        loop.dirty.add(this);
      }
    }

    void flush() {
      boolean tlsPending = tls != null && tls.hasPendingOutput();
      if (state != State.OPEN || (out.position() == 0 && !tlsPending)) {
        return;
      }
      try {
        out.flip();
        if (tls != null) {
          tls.write(out);
        } else {
          channel.write(out);
        }
        out.compact();
        boolean pending = out.position() > 0 || (tls != null && tls.hasPendingOutput());
        if (pending != writeInterest) {
          writeInterest = pending;
          key.interestOps(pending ? SelectionKey.OP_READ | SelectionKey.OP_WRITE : SelectionKey.OP_READ);
        }
      } catch (IOException e) {
        failed(System.nanoTime(), describe(e));
      }
    }

    @Override
    public void onObject(byte[] bytes, int start, int end) {
      loop.lastProgress = now;
      if (inFlight == 0) {
        loop.malformed++;
        problem("a reply with no request in flight on connection " + id + ": " + sample(bytes, start, end));
        return;
      }
      long seq = nextSeq - inFlight;
      int slot = (int) (seq % pipeline);
      long intendedTime = intended[slot];
      inFlight--;
      loop.outstanding--;
      Outcomes phase = loop.phaseOf(intendedTime);
      boolean ok = false;
      ReplyFields reply = loop.fields;
      if (!reply.parse(bytes, start, end)) {
        phase.addWrong();
        problem("malformed reply to " + id + "-" + seq + ": " + sample(bytes, start, end));
      } else {
        char type = reply.type();
        if (type == '2') {
          int srcidLength = expectedSrcid(seq);
          byte[] hash = pool.expectedHash(id, seq);
          if (reply.isString(ReplyFields.DESTID, loop.expectedSrcid, 0, srcidLength)
              && reply.isString(ReplyFields.PAYLOAD, hash)) {
            ok = true;
            phase.addOk();
            if (phase == loop.measured) {
              loop.latency.recordValue(Math.min(MAX_LATENCY_MICROS, Math.max(0, (now - intendedTime) / 1000)));
              loop.lastMeasuredReply = now;
            }
          } else {
            phase.addWrong();
            problem(
                "wrong reply to "
                    + id + "-" + seq
                    + " (expected destid \"" + id + "-" + seq + "\" and payload \""
                    + new String(hash, StandardCharsets.US_ASCII)
                    + "\"): "
                    + sample(bytes, start, end));
          }
        } else if (type == '3') {
          phase.addError(reply.text(ReplyFields.CODE));
          problem("error reply to " + id + "-" + seq + ": " + sample(bytes, start, end));
        } else {
          phase.addWrong();
          problem("unexpected reply type to " + id + "-" + seq + ": " + sample(bytes, start, end));
        }
      }
      if (!ok && phase == loop.measured) {
        loop.lastMeasuredReply = now;
      }
      loop.counted(ok);
    }

    @Override
    public void onGarbage() {
      loop.malformed++;
      problem("bytes outside any JSON object on connection " + id);
    }

    /** Writes "<id>-<seq>" into the loop's scratch array; returns its length. */
    private int expectedSrcid(long seq) {
      byte[] target = loop.expectedSrcid;
      System.arraycopy(srcidPrefix, 0, target, 0, srcidPrefix.length);
      int length = RequestPool.Digits.write(seq, loop.digits);
      System.arraycopy(loop.digits, loop.digits.length - length, target, srcidPrefix.length, length);
      return srcidPrefix.length + length;
    }

    void checkTimers(long now) throws IOException {
      switch (state) {
        case CONNECTING -> {
          if (now - connectStarted > settings.connectTimeout().toNanos()) {
            failed(now, "connect timed out after " + settings.connectTimeout().toMillis() + " ms");
          }
        }
        case WAITING, CLOSED -> {
          if (everResolved
              && state == State.WAITING
              && now >= reconnectAt
              && (!loop.sendingStopped || backlog > 0)) {
            state = State.CLOSED;
            loop.toConnect.add(this);
          }
        }
        case OPEN -> {
          if (inFlight > 0 && loop.time != null) {
            long oldest = sentAt[(int) ((nextSeq - inFlight) % pipeline)];
            if (now - oldest > settings.timeout().toNanos()) {
              problem(
                  "no reply within " + settings.timeout().toMillis() + " ms on connection " + id
                      + " (" + inFlight + " in flight); reconnecting");
              timeOutInFlight();
              close();
              retryLater(now);
            }
          }
        }
      }
    }

    /** Counts every request in flight as timed out. */
    private void timeOutInFlight() {
      for (long seq = nextSeq - inFlight; seq < nextSeq; seq++) {
        loop.phaseOf(intended[(int) (seq % pipeline)]).addTimeouts(1);
      }
      loop.outstanding -= inFlight;
      loop.failedWithoutReply(inFlight);
      inFlight = 0;
    }

    /** The run is over: what is still in flight or scheduled never got a reply in time. */
    void giveUp() {
      timeOutInFlight();
      if (backlog > 0) {
        for (long k = 0; k < backlog; k++) {
          long slotTime = loop.time.start + (long) ((backlogSlot + k * loop.active.length) * loop.intervalNanos);
          loop.phaseOf(slotTime).addTimeouts(1);
        }
        loop.outstanding -= backlog;
        loop.failedWithoutReply(backlog);
        backlog = 0;
      }
    }

    private void failed(long now, String reason) {
      if (state == State.CONNECTING) {
        loop.pendingConnects--;
      }
      resolved();
      loop.connectionErrors++;
      problem("connection " + id + " to " + address + ": " + reason);
      if (inFlight > 0) {
        for (long seq = nextSeq - inFlight; seq < nextSeq; seq++) {
          loop.phaseOf(intended[(int) (seq % pipeline)]).addLost(1);
        }
        loop.outstanding -= inFlight;
        loop.failedWithoutReply(inFlight);
        inFlight = 0;
      }
      close();
      retryLater(now);
    }

    private void retryLater(long now) {
      state = State.WAITING;
      reconnectAt = now + RECONNECT_DELAY_NANOS;
    }

    void close() {
      if (key != null) {
        key.cancel();
        key = null;
      }
      tls = null;
      if (channel != null) {
        try {
          channel.close();
        } catch (IOException ignored) {
          // closing anyway
        }
        channel = null;
      }
      if (state == State.OPEN || state == State.CONNECTING) {
        state = State.CLOSED;
      }
    }
  }

  /** A connection that is opened and then only watched: it sends nothing. */
  private final class IdleConn {
    final Loop loop;
    State state = State.WAITING;
    SocketChannel channel;
    TlsChannel tls;
    long connectStarted;

    IdleConn(Loop loop) {
      this.loop = loop;
    }

    void connect(long now) {
      state = State.CONNECTING;
      connectStarted = now;
      loop.pendingConnects++;
      try {
        channel = SocketChannel.open();
        channel.configureBlocking(false);
        if (channel.connect(address)) {
          connected(channel.register(loop.selector, SelectionKey.OP_READ, this));
        } else {
          channel.register(loop.selector, SelectionKey.OP_CONNECT, this);
        }
      } catch (IOException e) {
        failed(describe(e));
      }
    }

    /** As for a load connection: open now, or with --tls once the handshake is done. */
    private void connected(SelectionKey key) throws IOException {
      if (settings.tls().isPresent()) {
        tls = tlsChannel(channel);
        handshake(key);
      } else {
        opened();
      }
    }

    private void handshake(SelectionKey key) throws IOException {
      if (tls.handshake(key)) {
        key.interestOps(SelectionKey.OP_READ);
        opened();
      }
    }

    private void opened() {
      loop.pendingConnects--;
      loop.unresolved--;
      loop.idleOpen++;
      state = State.OPEN;
    }

    void onReady(SelectionKey key) {
      try {
        if (state == State.CONNECTING && key.isConnectable()) {
          channel.finishConnect();
          key.interestOps(SelectionKey.OP_READ);
          connected(key);
        } else if (state == State.CONNECTING && tls != null) {
          handshake(key);
        } else if (state == State.OPEN && key.isReadable()) {
          loop.idleScratch.clear();
          int n = tls != null ? tls.read(loop.idleScratch) : channel.read(loop.idleScratch);
          if (n < 0) {
            loop.idleOpen--;
            loop.idleClosed++;
            problem("an idle connection was closed by the server");
            close();
          }
        }
      } catch (IOException e) {
        if (state == State.OPEN) {
          loop.idleOpen--;
          loop.idleClosed++;
          problem("an idle connection failed: " + describe(e));
          close();
        } else {
          failed(describe(e));
        }
      }
    }

    void failed(String reason) {
      if (state == State.CONNECTING) {
        loop.pendingConnects--;
        loop.unresolved--;
        loop.idleFailed++;
        problem("idle connection to " + address + ": " + reason);
      }
      close();
    }

    void close() {
      state = State.CLOSED;
      tls = null;
      if (channel != null) {
        try {
          channel.close();
        } catch (IOException ignored) {
          // closing anyway
        }
        channel = null;
      }
    }
  }

  /** A connected channel through TLS to the server, checking its certificate (--tls). */
  private TlsChannel tlsChannel(SocketChannel channel) throws SSLException {
    return new TlsChannel(
        channel, settings.tls().get().clientEngine(settings.host(), settings.port()));
  }

  private static String describe(IOException e) {
    if (e instanceof ClosedChannelException) {
      return "channel closed";
    }
    return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
  }

  private static String sample(byte[] bytes, int start, int end) {
    int length = Math.min(end - start, MAX_SAMPLE_CHARS);
    String text = new String(bytes, start, length, StandardCharsets.UTF_8);
    return end - start > length ? text + "..." : text;
  }
}
