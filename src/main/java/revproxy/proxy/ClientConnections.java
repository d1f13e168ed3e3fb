package revproxy.proxy;

import akka.Done;
import akka.NotUsed;
import akka.stream.Attributes;
import akka.stream.FlowShape;
import akka.stream.Inlet;
import akka.stream.Outlet;
import akka.stream.javadsl.Flow;
import akka.stream.stage.AbstractInHandler;
import akka.stream.stage.AbstractOutHandler;
import akka.stream.stage.AsyncCallback;
import akka.stream.stage.GraphStage;
import akka.stream.stage.GraphStageLogic;
import akka.stream.stage.TimerGraphStageLogic;
import akka.util.ByteString;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The open client connections: their count (for the connection limit), their idle timeout, and the
 * graceful drain of all of them.
 *
 * <p>Each connection's input passes through {@link #flow()}. When the connection has been idle for
 * {@code idle-timeout}, or when {@link #drain()} is called, the stage stops reading new requests:
 * it completes its output (so the connection's requests in flight are answered, then the proxy
 * closes it cleanly) but keeps consuming its input instead of cancelling it, because cancelling the
 * read side of a TCP connection that does not half-close would close the socket before the replies
 * are written. Akka's KillSwitch and idle timeouts cancel or abort instead.
 */
final class ClientConnections {

  /** Why the proxy stopped reading a connection. */
  enum Stop {
    IDLE,
    DRAIN
  }

  private static final String IDLE_TIMER = "idle";

  private final Duration idleTimeout;
  private final Set<AsyncCallback<Done>> open = ConcurrentHashMap.newKeySet();
  private final AtomicInteger connections = new AtomicInteger();
  private final CompletableFuture<Done> drained = new CompletableFuture<>();
  private volatile boolean draining;

  ClientConnections(Duration idleTimeout) {
    this.idleTimeout = idleTimeout;
  }

  /** Connections currently open. */
  int connections() {
    return connections.get();
  }

  /**
   * Counts a new connection in if fewer than {@code max} are open and no drain has started; the
   * connection's drain stage counts it out when it ends.
   */
  boolean tryAdmit(int max) {
    while (!draining) {
      int open = connections.get();
      if (open >= max) {
        return false;
      }
      if (connections.compareAndSet(open, open + 1)) {
        return true;
      }
    }
    return false;
  }

  /** Stops reading new requests on every connection; completes once all have closed. */
  CompletableFuture<Done> drain() {
    draining = true;
    for (AsyncCallback<Done> stop : open) {
      stop.invoke(Done.getInstance());
    }
    if (connections.get() == 0) {
      drained.complete(Done.getInstance());
    }
    return drained;
  }

  /** One connection's stage; {@code stopped} hears why, if the proxy stops reading it. */
  Flow<ByteString, ByteString, NotUsed> flow(Consumer<Stop> stopped) {
    return Flow.fromGraph(new Stage(stopped));
  }

  /** Counts out a connection admitted by {@link #tryAdmit} whose stage never started. */
  void release() {
    closed();
  }

  private void closed() {
    if (connections.decrementAndGet() == 0 && draining) {
      drained.complete(Done.getInstance());
    }
  }

  private static boolean onlyWhitespace(ByteString bytes) {
    for (int i = 0; i < bytes.length(); i++) {
      byte b = bytes.apply(i);
      if (b != ' ' && b != '\t' && b != '\r' && b != '\n') {
        return false;
      }
    }
    return true;
  }

  private final class Stage extends GraphStage<FlowShape<ByteString, ByteString>> {
    private final Inlet<ByteString> in = Inlet.create("Drain.in");
    private final Outlet<ByteString> out = Outlet.create("Drain.out");
    private final FlowShape<ByteString, ByteString> shape = FlowShape.of(in, out);
    private final Consumer<Stop> stopped;

    Stage(Consumer<Stop> stopped) {
      this.stopped = stopped;
    }

    @Override
    public FlowShape<ByteString, ByteString> shape() {
      return shape;
    }

    @Override
    public GraphStageLogic createLogic(Attributes attributes) {
      return new TimerGraphStageLogic(shape) {
        private AsyncCallback<Done> stop;
        private boolean stoppedReading;

        {
          setHandler(
              in,
              new AbstractInHandler() {
                @Override
                public void onPush() {
                  ByteString bytes = grab(in);
                  if (stoppedReading) {
                    pull(in);
                  } else {
                    // Whitespace alone is not activity: a space every few seconds must not keep
                    // a connection (and its slot of max-connections) forever.
                    if (!onlyWhitespace(bytes)) {
                      scheduleOnce(IDLE_TIMER, idleTimeout);
                    }
                    push(out, bytes);
                  }
                }
              });
          setHandler(
              out,
              new AbstractOutHandler() {
                @Override
                public void onPull() {
                  if (!hasBeenPulled(in)) {
                    pull(in);
                  }
                }
              });
        }

        @Override
        public void preStart() {
          stop = createAsyncCallback(done -> stopReading(Stop.DRAIN));
          open.add(stop);
          scheduleOnce(IDLE_TIMER, idleTimeout);
          if (draining) {
            stopReading(Stop.DRAIN);
          }
        }

        @Override
        public void onTimer(Object key) {
          stopReading(Stop.IDLE);
        }

        private void stopReading(Stop why) {
          if (stoppedReading) {
            return;
          }
          stoppedReading = true;
          stopped.accept(why);
          cancelTimer(IDLE_TIMER);
          complete(out);
          if (!hasBeenPulled(in) && !isClosed(in)) {
            pull(in);
          }
        }

        @Override
        public void postStop() {
          if (stop != null) {
            open.remove(stop);
          }
          closed();
        }
      };
    }
  }
}
