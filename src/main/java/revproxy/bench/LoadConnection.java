package revproxy.bench;

import static revproxy.bench.Problems.describe;
import static revproxy.bench.Problems.sample;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * One load connection of a selector loop: writes prepared requests, reads the replies and checks
 * each exactly (type "2", {@code destid} equal to the request's {@code srcid}, {@code payload}
 * equal to the SHA-1 hex of the payload sent). Replies come in request order, so each answers the
 * oldest request in flight. A connection that fails, is closed by the server or gets no reply in
 * time counts what it had in flight and is opened again after a short delay.
 *
 * <p>With several proxies ({@code --proxy}) connection {@code id} starts on proxy {@code id} modulo
 * their number. When it fails or breaks, it fails over: it reconnects to the next proxy in the list
 * (round the list: at once, then after {@link #FAILOVER_MIN_BACKOFF_NANOS} doubling to {@link
 * #FAILOVER_MAX_BACKOFF_NANOS} while connects keep failing, until a reply comes) and writes again,
 * with their sequence numbers and due times, the requests that had no reply yet (hashing is
 * idempotent). Only a run that ends while they still wait for a connection loses them. A timeout is
 * not failed over: those requests are counted as timeouts, and the connection moves on.
 *
 * <p>Closed loop, it keeps {@code pipeline} requests in flight while the loop lets it start more;
 * open loop, it sends the slots the {@link OpenLoopSchedule} gave it, at most {@code pipeline} in
 * flight, the rest waiting their turn with their due times kept.
 */
final class LoadConnection implements ReplyScanner.Handler {

  /** Largest reply object accepted (the proxy's default max-packet-bytes). */
  static final int MAX_REPLY_BYTES = 65536;

  private static final long RECONNECT_DELAY_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
  static final long FAILOVER_MIN_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(25);
  static final long FAILOVER_MAX_BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final SelectorLoop loop;
  private final BenchSettings settings;
  private final RequestPool pool;

  /** Open loop: the loop's schedule; null in a closed loop. */
  private final OpenLoopSchedule schedule;

  private final int id;
  private final byte[] srcidPrefix;
  private final int pipeline;

  /** By sequence number modulo pipeline: when each request in flight was due, and sent. */
  private final long[] intended;

  private final long[] sentAt;
  private final ByteBuffer out;
  private final ReplyScanner in = new ReplyScanner(8192, MAX_REPLY_BYTES);

  private ConnectionState state = ConnectionState.WAITING;
  private SocketChannel channel;

  /** The channel through TLS, with --tls; else null. */
  private TlsChannel tls;

  private SelectionKey key;
  private boolean writeInterest;

  /** Requests written since the last flush: the connection is in the loop's dirty list. */
  private boolean dirty;

  private boolean everResolved;
  private long connectStarted;
  private long reconnectAt;

  /** Sequence number of the next request; the oldest in flight is {@code nextSeq - inFlight}. */
  private long nextSeq;

  private int inFlight;

  /**
   * The next request in flight to write on this connection: {@code nextSeq} once all are written;
   * after a failover, the oldest without a reply, which is written again.
   */
  private long writeSeq;

  /** Index into the loop's targets of the proxy this connection uses. */
  private int target;

  /** Failovers since the last reply: the first reconnects at once, later ones back off. */
  private int failoversInARow;

  /** Open loop: requests scheduled but not sent yet, the oldest at schedule slot backlogSlot. */
  private long backlog;

  private long backlogSlot;

  /** When the current read began, for the replies it holds. */
  private long now;

  LoadConnection(SelectorLoop loop, int id) {
    this.loop = loop;
    this.settings = loop.settings;
    this.pool = loop.pool;
    this.schedule = loop.schedule;
    this.id = id;
    this.pipeline = settings.pipeline();
    this.srcidPrefix = ReplyFields.ascii(id + "-");
    this.target = id % loop.targets.size();
    this.intended = new long[pipeline];
    this.sentAt = new long[pipeline];
    int request = pool.maxRequestBytes();
    long wanted = (long) request * pipeline;
    this.out = ByteBuffer.allocateDirect((int) Math.max(request, Math.min(wanted, 256 * 1024)));
  }

  void connect(long now) throws IOException {
    state = ConnectionState.CONNECTING;
    connectStarted = now;
    in.reset();
    out.clear();
    writeInterest = false;
    loop.pendingConnects++;
    try {
      channel = SocketChannel.open();
      channel.configureBlocking(false);
      channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
      if (channel.connect(loop.targets.get(target))) {
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
      tls = loop.tlsChannel(channel, loop.targets.get(target));
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
          channel.finishConnect();
          key.interestOps(SelectionKey.OP_READ);
          connected(now);
        } else if (tls != null) {
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
          if (state != ConnectionState.OPEN) {
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

  /**
   * Starts what may be started: first the requests to write again after a failover, then more
   * requests (closed loop) or the backlog (open loop).
   */
  void sendMore(long now) {
    if (state != ConnectionState.OPEN) {
      return;
    }
    int room = pool.maxRequestBytes();
    while (writeSeq < nextSeq && out.remaining() >= room) {
      sentAt[(int) (writeSeq % pipeline)] = now;
      write(writeSeq++);
      loop.resent++;
    }
    if (writeSeq < nextSeq) {
      return;
    }
    if (schedule != null) {
      while (backlog > 0 && inFlight < pipeline && out.remaining() >= room) {
        send(schedule.dueTime(backlogSlot), now);
        backlog--;
        backlogSlot = schedule.nextOfConnection(backlogSlot);
      }
    } else {
      while (inFlight < pipeline && out.remaining() >= room && loop.mayStart(now)) {
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
    if (backlog == 0) {
      backlogSlot = slot;
    }
    backlog++;
    sendMore(now);
  }

  private void send(long intendedTime, long now) {
    long seq = nextSeq++;
    int slot = (int) (seq % pipeline);
    intended[slot] = intendedTime;
    sentAt[slot] = now;
    inFlight++;
    writeSeq = nextSeq;
    write(seq);
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
    boolean tlsPending = tls != null && tls.hasPendingOutput();
    if (state != ConnectionState.OPEN || (out.position() == 0 && !tlsPending)) {
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
        key.interestOps(
            pending ? SelectionKey.OP_READ | SelectionKey.OP_WRITE : SelectionKey.OP_READ);
      }
    } catch (IOException e) {
      failed(System.nanoTime(), describe(e));
    }
  }

  @Override
  public void onObject(byte[] bytes, int start, int end) {
    loop.lastProgress = now;
    if (inFlight == 0 || nextSeq - inFlight >= writeSeq) {
      loop.malformed++;
      problem(
          "a reply with no request in flight on connection "
              + id
              + ": "
              + sample(bytes, start, end));
      return;
    }
    long seq = nextSeq - inFlight;
    int slot = (int) (seq % pipeline);
    long intendedTime = intended[slot];
    inFlight--;
    failoversInARow = 0;
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
            loop.latency.recordValue(
                Math.min(
                    SelectorLoop.MAX_LATENCY_MICROS, Math.max(0, (now - intendedTime) / 1000)));
            loop.lastMeasuredReply = now;
          }
        } else {
          phase.addWrong();
          problem(
              "wrong reply to "
                  + id
                  + "-"
                  + seq
                  + " (expected destid \""
                  + id
                  + "-"
                  + seq
                  + "\" and payload \""
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
            && state == ConnectionState.WAITING
            && now >= reconnectAt
            && (!loop.sendingStopped || backlog > 0 || inFlight > 0)) {
          state = ConnectionState.CLOSED;
          loop.toConnect.add(this);
        }
      }
      case OPEN -> {
        if (inFlight > 0 && nextSeq - inFlight < writeSeq && loop.time != null) {
          long oldest = sentAt[(int) ((nextSeq - inFlight) % pipeline)];
          if (now - oldest > settings.timeout().toNanos()) {
            problem(
                "no reply within "
                    + settings.timeout().toMillis()
                    + " ms on connection "
                    + id
                    + " ("
                    + inFlight
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
    for (long seq = nextSeq - inFlight; seq < nextSeq; seq++) {
      loop.phaseOf(intended[(int) (seq % pipeline)]).addTimeouts(1);
    }
    loop.outstanding -= inFlight;
    loop.failedWithoutReply(inFlight);
    inFlight = 0;
  }

  /**
   * The run is over: what is still in flight or scheduled never got a reply in time. Requests
   * waiting to be written again after a failover are lost: in flight on a connection that broke and
   * never answered.
   */
  void giveUp() {
    if (state != ConnectionState.OPEN) {
      writeSeq = nextSeq - inFlight;
    }
    long unwritten = nextSeq - writeSeq;
    for (long seq = writeSeq; seq < nextSeq; seq++) {
      loop.phaseOf(intended[(int) (seq % pipeline)]).addLost(1);
    }
    loop.outstanding -= unwritten;
    loop.failedWithoutReply(unwritten);
    inFlight -= (int) unwritten;
    nextSeq = writeSeq;
    timeOutInFlight();
    if (backlog > 0) {
      long slot = backlogSlot;
      for (long k = 0; k < backlog; k++) {
        loop.phaseOf(schedule.dueTime(slot)).addTimeouts(1);
        slot = schedule.nextOfConnection(slot);
      }
      loop.outstanding -= backlog;
      loop.failedWithoutReply(backlog);
      backlog = 0;
    }
  }

  private void failed(long now, String reason) {
    if (state == ConnectionState.CONNECTING) {
      loop.pendingConnects--;
    }
    resolved();
    loop.connectionErrors++;
    InetSocketAddress address = loop.targets.get(target);
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
              + BenchSettings.name(loop.targets.get(target))
              + (inFlight == 0 ? "" : " with " + requests(inFlight) + " to send again"));
      return;
    }
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

  private static String requests(int n) {
    return n + (n == 1 ? " request" : " requests");
  }

  /**
   * Moves to the next proxy, keeping the requests in flight to write again there: at once after the
   * first failure since a reply, then with a backoff, so that a list of proxies that are all down
   * is tried at a bounded pace.
   */
  private void failOver(long now) {
    loop.failovers++;
    target = (target + 1) % loop.targets.size();
    writeSeq = nextSeq - inFlight;
    long backoff = 0;
    if (failoversInARow > 0) {
      int doublings = Math.min(failoversInARow - 1, 10);
      backoff = Math.min(FAILOVER_MIN_BACKOFF_NANOS << doublings, FAILOVER_MAX_BACKOFF_NANOS);
    }
    failoversInARow++;
    state = ConnectionState.WAITING;
    reconnectAt = now + backoff;
  }

  private void retryLater(long now) {
    state = ConnectionState.WAITING;
    reconnectAt = now + RECONNECT_DELAY_NANOS;
  }

  private void problem(String text) {
    loop.problems.add(text);
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
    if (state == ConnectionState.OPEN || state == ConnectionState.CONNECTING) {
      state = ConnectionState.CLOSED;
    }
  }
}
