package revproxy.bench;

import static revproxy.bench.Problems.describe;
import static revproxy.bench.Problems.sample;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.util.concurrent.TimeUnit;

/**
 * One load connection of a selector loop: writes prepared requests, reads the replies and checks
 * each exactly (type "2", {@code destid} equal to the request's {@code srcid}, {@code payload}
 * equal to the SHA-1 hex of the payload sent). Replies come in request order, so each answers the
 * oldest request in flight. A connection that fails, is closed by the server or gets no reply in
 * time counts what it had in flight and is opened again after a short delay.
 *
 * <p>With several proxies ({@code --proxy}), when it fails or breaks, it fails over: it reconnects
 * to the next proxy in the list (when: {@link FailoverSchedule}) and writes again, with their
 * sequence numbers and due times, the requests that had no reply yet ({@link InFlight}; hashing is
 * idempotent). Only a run that ends while they still wait for a connection loses them. A timeout is
 * not failed over: those requests are counted as timeouts, and the connection moves on.
 *
 * <p>Closed loop, it keeps {@code pipeline} requests in flight while the loop lets it start more;
 * open loop, it sends the slots the {@link OpenLoopSchedule} gave it, at most {@code pipeline} in
 * flight, the rest waiting their turn in its {@link Backlog}. Each reply is checked by the loop's
 * {@link ReplyCheck}.
 */
final class LoadConnection implements ReplyScanner.Handler {

  /** Largest reply object accepted (the proxy's default max-packet-bytes). */
  static final int MAX_REPLY_BYTES = 65536;

  private static final long RECONNECT_DELAY_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

  private final SelectorLoop loop;
  private final BenchSettings settings;
  private final RequestPool pool;

  private final int id;
  private final byte[] srcidPrefix;
  private final InFlight inFlight;
  private final FailoverSchedule failover;

  /** Open loop: scheduled but not sent yet; always empty in a closed loop. */
  private final Backlog backlog;

  private final ByteBuffer out;
  private final ReplyScanner in = new ReplyScanner(8192, MAX_REPLY_BYTES);

  private ConnectionState state = ConnectionState.WAITING;
  private final LoadSocket socket = new LoadSocket();

  /** Requests written since the last flush: the connection is in the loop's dirty list. */
  private boolean dirty;

  private boolean everResolved;
  private long connectStarted;
  private long reconnectAt;

  /** When the current read began, for the replies it holds. */
  private long now;

  LoadConnection(SelectorLoop loop, int id) {
    this.loop = loop;
    this.settings = loop.settings;
    this.pool = loop.pool;
    this.id = id;
    this.srcidPrefix = ReplyFields.ascii(id + "-");
    this.inFlight = new InFlight(settings.pipeline());
    this.failover = new FailoverSchedule(id, loop.targets.size());
    this.backlog = new Backlog(loop.schedule);
    int request = pool.maxRequestBytes();
    long wanted = (long) request * settings.pipeline();
    this.out = ByteBuffer.allocateDirect((int) Math.max(request, Math.min(wanted, 256 * 1024)));
  }

  void connect(long now) throws IOException {
    state = ConnectionState.CONNECTING;
    connectStarted = now;
    in.reset();
    out.clear();
    loop.pendingConnects++;
    try {
      if (socket.connect(loop.targets.get(failover.target()), loop.selector, this)) {
        connected(now);
      }
    } catch (IOException e) {
      failed(now, describe(e));
    }
  }

  /** TCP is connected: the connection is open now, or with --tls once the handshake is done. */
  private void connected(long now) throws IOException {
    if (settings.tls().isPresent()) {
      socket.startTls(loop.tlsChannel(socket.channel(), loop.targets.get(failover.target())));
      handshake(now);
    } else {
      opened(now);
    }
  }

  private void handshake(long now) throws IOException {
    if (socket.handshake()) {
      opened(now);
    }
  }

  private void opened(long now) {
    loop.pendingConnects--;
    resolved();
    state = ConnectionState.OPEN;
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
      if (state == ConnectionState.CONNECTING) {
        if (readyKey.isConnectable()) {
          socket.finishConnect();
          connected(now);
        } else if (socket.isTls()) {
          handshake(now);
        }
        flush();
        return;
      }
      if (state != ConnectionState.OPEN) {
        return;
      }
      if (readyKey.isReadable()) {
        int n;
        // TLS may hold more decrypted bytes than the scanner had room for: take them all.
        do {
          n = socket.read(in.readBuffer());
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
          if (state != ConnectionState.OPEN) {
            return;
          }
        } while (n > 0 && socket.hasBufferedInput());
        sendMore(now);
      }
      if (readyKey.isValid() && readyKey.isWritable()) {
        socket.writable();
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

  /**
   * Starts what may be started: first the requests to write again after a failover, then more
   * requests (closed loop) or the backlog (open loop).
   */
  void sendMore(long now) {
    if (state != ConnectionState.OPEN) {
      return;
    }
    int room = pool.maxRequestBytes();
    while (inFlight.hasUnwritten() && out.remaining() >= room) {
      write(inFlight.rewrite(now));
      loop.resent++;
    }
    if (inFlight.hasUnwritten()) {
      return;
    }
    if (loop.schedule != null) {
      while (!backlog.isEmpty() && !inFlight.isFull() && out.remaining() >= room) {
        send(backlog.takeDueTime(), now);
      }
    } else {
      while (!inFlight.isFull() && out.remaining() >= room && loop.mayStart(now)) {
        if (now >= loop.time.measureStart()) {
          loop.measuredSent++;
        }
        loop.outstanding++;
        send(now, now);
      }
    }
  }

  /** Open loop: {@code slot} of the schedule is due; it is sent as soon as there is room. */
  void enqueue(long slot, long now) {
    backlog.add(slot);
    sendMore(now);
  }

  private void send(long intendedTime, long now) {
    write(inFlight.start(intendedTime, now));
  }

  private void write(long seq) {
    pool.write(out, id, srcidPrefix, seq, loop.digits);
    if (!dirty) {
      dirty = true;
      loop.dirty.add(this);
    }
  }

  boolean isOpen() {
    return state == ConnectionState.OPEN;
  }

  /** Flushes what was written since the last flush; the loop calls it once per turn. */
  void flushWritten() {
    dirty = false;
    flush();
  }

  private void flush() {
    if (state != ConnectionState.OPEN || (out.position() == 0 && !socket.hasPendingOutput())) {
      return;
    }
    try {
      socket.write(out);
    } catch (IOException e) {
      failed(System.nanoTime(), describe(e));
    }
  }

  @Override
  public void onObject(byte[] bytes, int start, int end) {
    loop.lastProgress = now;
    if (!inFlight.oldestWritten()) {
      loop.malformed++;
      problem(
          "a reply with no request in flight on connection "
              + id
              + ": "
              + sample(bytes, start, end));
      return;
    }
    long seq = inFlight.answerOldest();
    long intendedTime = inFlight.intendedOf(seq);
    failover.replied();
    loop.outstanding--;
    Outcomes phase = loop.phaseOf(intendedTime);
    boolean ok = loop.replies.check(bytes, start, end, id, srcidPrefix, seq, phase);
    if (ok && phase == loop.measured) {
      loop.latency.recordValue(
          Math.min(SelectorLoop.MAX_LATENCY_MICROS, Math.max(0, (now - intendedTime) / 1000)));
    }
    if (phase == loop.measured) {
      loop.lastMeasuredReply = now;
    }
    loop.counted(ok);
  }

  @Override
  public void onGarbage() {
    loop.malformed++;
    problem("bytes outside any JSON object on connection " + id);
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
            && state == ConnectionState.WAITING
            && now >= reconnectAt
            && (!loop.sendingStopped || !backlog.isEmpty() || inFlight.count() > 0)) {
          state = ConnectionState.CLOSED;
          loop.toConnect.add(this);
        }
      }
      case OPEN -> {
        if (inFlight.oldestWritten() && loop.time != null) {
          if (now - inFlight.oldestSentAt() > settings.timeout().toNanos()) {
            problem(
                "no reply within "
                    + settings.timeout().toMillis()
                    + " ms on connection "
                    + id
                    + " ("
                    + inFlight.count()
                    + " in flight); reconnecting");
            timeOutInFlight();
            close();
            if (settings.failover()) {
              failOver(now);
            } else {
              retryLater(now);
            }
          }
        }
      }
    }
  }

  /** Counts every request in flight as timed out. */
  private void timeOutInFlight() {
    unanswered(inFlight.clear(due -> loop.phaseOf(due).addTimeouts(1)));
  }

  /** {@code n} requests will have no reply. */
  private void unanswered(long n) {
    loop.outstanding -= n;
    loop.failedWithoutReply(n);
  }

  /**
   * The run is over: what is still in flight or scheduled never got a reply in time. Requests
   * waiting to be written again after a failover are lost: in flight on a connection that broke and
   * never answered.
   */
  void giveUp() {
    if (state != ConnectionState.OPEN) {
      inFlight.rewind();
    }
    unanswered(inFlight.clearUnwritten(due -> loop.phaseOf(due).addLost(1)));
    timeOutInFlight();
    if (!backlog.isEmpty()) {
      unanswered(backlog.clear(due -> loop.phaseOf(due).addTimeouts(1)));
    }
  }

  private void failed(long now, String reason) {
    if (state == ConnectionState.CONNECTING) {
      loop.pendingConnects--;
    }
    resolved();
    loop.connectionErrors++;
    InetSocketAddress address = loop.targets.get(failover.target());
    if (settings.failover()) {
      close();
      failOver(now);
      problem(
          "connection "
              + id
              + " to "
              + address
              + ": "
              + reason
              + "; failing over to "
              + BenchSettings.name(loop.targets.get(failover.target()))
              + (inFlight.count() == 0
                  ? ""
                  : " with " + requests(inFlight.count()) + " to send again"));
      return;
    }
    problem("connection " + id + " to " + address + ": " + reason);
    if (inFlight.count() > 0) {
      unanswered(inFlight.clear(due -> loop.phaseOf(due).addLost(1)));
    }
    close();
    retryLater(now);
  }

  private static String requests(int n) {
    return n + (n == 1 ? " request" : " requests");
  }

  /** Moves to the next proxy, keeping the requests in flight to write again there. */
  private void failOver(long now) {
    loop.failovers++;
    inFlight.rewind();
    state = ConnectionState.WAITING;
    reconnectAt = now + failover.failOver();
  }

  private void retryLater(long now) {
    state = ConnectionState.WAITING;
    reconnectAt = now + RECONNECT_DELAY_NANOS;
  }

  private void problem(String text) {
    loop.problems.add(text);
  }

  void close() {
    socket.close();
    if (state == ConnectionState.OPEN || state == ConnectionState.CONNECTING) {
      state = ConnectionState.CLOSED;
    }
  }
}
