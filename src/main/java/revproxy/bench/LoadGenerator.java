package revproxy.bench;

import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * A verifying load generator for the proxy's wire protocol, like wrk or hey: many connections, each
 * closed loop (keeps {@code pipeline} requests in flight) or open loop (requests at scheduled
 * times, {@code rate} per second in all, latency counted from the scheduled time so a stalled
 * server cannot hide its stalls: no coordinated omission, see {@link OpenLoopSchedule}).
 *
 * <p>It shares the machine with the proxy, so it is built to be cheap: plain NIO, one selector
 * thread ({@link SelectorLoop}) by default for every connection, requests written from prepared
 * byte pieces ({@link RequestPool}), replies framed and checked in place by each {@link
 * LoadConnection} ({@link ReplyScanner}, {@link ReplyFields}) with no JSON tree and no garbage per
 * reply.
 *
 * <p>This class runs the loops: it spreads the connections over the threads, starts the clock once
 * every connection is up, prints progress, and merges what the loops counted into one {@link
 * BenchResult}.
 *
 * <p>With {@code --proxy} the connections are spread over the proxies, and each fails over to the
 * next one when its connection fails or breaks (see {@link LoadConnection}).
 *
 * <p>With {@code --tls} every connection, idle ones too, reads and writes through a {@link
 * TlsChannel}, and counts as connected once its handshake is done.
 */
public final class LoadGenerator {

  private final BenchSettings settings;
  private final List<SelectorLoop> loops = new ArrayList<>();
  private final CountDownLatch connected;
  private final Problems problems = new Problems();

  private LoadGenerator(BenchSettings settings) {
    this.settings = settings;
    RequestPool pool = new RequestPool(settings.payloadBytes(), settings.policies(), 42);
    List<InetSocketAddress> targets = new ArrayList<>();
    for (InetSocketAddress target : settings.targets()) {
      InetSocketAddress resolved = new InetSocketAddress(target.getHostString(), target.getPort());
      if (resolved.isUnresolved()) {
        throw new IllegalArgumentException("cannot resolve host " + target.getHostString());
      }
      targets.add(resolved);
    }
    int threads = settings.threads();
    long totalConnections = (long) settings.connections();
    connected = new CountDownLatch(threads);
    for (int t = 0; t < threads; t++) {
      int active = share(settings.connections(), threads, t);
      int idle = share(settings.idleConnections(), threads, t);
      long quota = settings.byRequestCount() ? share(settings.requests(), threads, t) : 0;
      double rate =
          settings.openLoop() && active > 0 ? settings.rate() * active / totalConnections : 0;
      loops.add(
          new SelectorLoop(
              t,
              new SelectorLoop.Share(active, idle, quota, rate),
              settings,
              pool,
              targets,
              problems,
              connected));
    }
  }

  /**
   * Runs the load described by {@code settings} and returns what happened. Progress lines, one a
   * second, go to {@code progress} when it is not null.
   */
  public static BenchResult run(BenchSettings settings, PrintWriter progress)
      throws InterruptedException {
    return new LoadGenerator(settings).run(progress);
  }

  private BenchResult run(PrintWriter progress) throws InterruptedException {
    List<Thread> threads = new ArrayList<>();
    for (SelectorLoop loop : loops) {
      Thread thread = new Thread(loop, "bench-loop-" + loop.index);
      thread.setDaemon(true);
      threads.add(thread);
      thread.start();
    }
    // Every connection is opened (or has failed) before the clock starts.
    long connectWait = settings.connectTimeout().toMillis() + 5_000;
    if (!connected.await(connectWait, TimeUnit.MILLISECONDS)) {
      problems.addAlways("connecting took longer than " + connectWait + " ms");
    }
    long start = System.nanoTime();
    long measureStart = start + settings.warmup().toNanos();
    long end =
        settings.byRequestCount() ? Long.MAX_VALUE : measureStart + settings.duration().toNanos();
    SelectorLoop.Timeline timeline = new SelectorLoop.Timeline(start, measureStart, end);
    for (SelectorLoop loop : loops) {
      loop.begin(timeline);
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
          for (SelectorLoop loop : loops) {
            completed += loop.completed();
            failed += loop.failed();
          }
          double rate = (completed - lastCompleted) * 1e9 / (now - lastTime);
          String phase = now < measureStart ? "warmup" : now < end ? "running" : "draining";
          progress.printf(
              "%6.1fs  %-8s %,10.0f req/s  %,d replies  %,d failed%n",
              (now - start) / 1e9, phase, rate, completed, failed);
          progress.flush();
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
    Histogram latency = new Histogram(SelectorLoop.MAX_LATENCY_MICROS, 3);
    long lastReply = measureStart;
    long connectionErrors = 0;
    long failovers = 0;
    long resent = 0;
    long malformed = 0;
    int idleOpen = 0;
    int idleFailed = 0;
    int idleClosed = 0;
    long cpuNanos = 0;
    boolean stalled = false;
    for (SelectorLoop loop : loops) {
      if (loop.failure != null) {
        throw new IllegalStateException("load thread failed: " + loop.failure, loop.failure);
      }
      measured.addAll(loop.measured);
      warmup.addAll(loop.warmup);
      latency.add(loop.latency);
      lastReply = Math.max(lastReply, loop.lastMeasuredReply);
      connectionErrors += loop.connectionErrors;
      failovers += loop.failovers;
      resent += loop.resent;
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
        failovers,
        resent,
        malformed,
        idleOpen,
        idleFailed,
        idleClosed,
        cpuNanos / 1e9,
        stalled,
        problems.list());
  }

  /** Part {@code index} of {@code total} split into {@code parts} near-equal parts. */
  private static int share(long total, int parts, int index) {
    return (int) (total / parts + (index < total % parts ? 1 : 0));
  }
}
