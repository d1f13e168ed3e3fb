package revproxy.server;

import static revproxy.util.Completions.SAME_THREAD;
import static revproxy.util.Completions.rootMessage;

import akka.Done;
import akka.actor.typed.ActorSystem;
import akka.japi.Pair;
import akka.pattern.Patterns;
import akka.stream.KillSwitches;
import akka.stream.UniqueKillSwitch;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.stream.javadsl.Tcp;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import revproxy.protocol.Decoded;
import revproxy.protocol.ErrorCode;
import revproxy.protocol.Packet;
import revproxy.protocol.PacketCodec;
import revproxy.protocol.PacketFraming;

/**
 * How a {@code server} registers with the proxy: its type "1" packet on a connection of its own, as
 * {@code server.py} does. The proxy accepts in silence, as the original, or refuses with a type "3"
 * error; so the server half-closes after writing and reads until the proxy closes, or until {@code
 * registration-reply-wait} passes without a refusal (a proxy that keeps the connection open, like
 * the original, has accepted).
 */
public final class ProxyRegistration {

  private static final Logger log = LoggerFactory.getLogger(ProxyRegistration.class);

  private static final double BACKOFF_JITTER = 0.2;
  private static final int MAX_REPLY_BYTES = 65536;

  private ProxyRegistration() {}

  /** The proxy answered the registration with a type "3" error. */
  public static final class RefusedException extends RuntimeException {
    private final String code;

    RefusedException(String code, String message) {
      super("the proxy refused the registration (" + code + "): " + message);
      this.code = code;
    }

    public String code() {
      return code;
    }

    /** A conflict ends once the other server has been unreachable for a while: worth retrying. */
    boolean retryable() {
      return ErrorCode.REGISTRATION_CONFLICT.wire().equals(code);
    }
  }

  /**
   * The proxy's answer to the registration does not decode: whatever listens there does not speak
   * the proxy's protocol, so trying again would not help.
   */
  public static final class UnreadableAnswerException extends RuntimeException {
    UnreadableAnswerException(Decoded.Refused unreadable) {
      super(
          "the proxy's answer to the registration is unreadable ("
              + unreadable.code().wire()
              + "): "
              + unreadable.message());
    }
  }

  /** The proxy could not be reached, or kept refusing, after every attempt. */
  public static final class FailedException extends RuntimeException {
    FailedException(String proxy, int attempts, Throwable cause) {
      super(
          "could not register with the proxy at "
              + proxy
              + " after "
              + attempts
              + (attempts == 1 ? " attempt" : " attempts")
              + ": "
              + rootMessage(cause),
          cause);
    }
  }

  /**
   * One try: sends {@code registration} to {@code proxyHost:proxyPort} and completes once the proxy
   * has closed the connection or {@code replyWait} has passed without a refusal; fails with a
   * {@link RefusedException} when the proxy refuses, an {@link UnreadableAnswerException} when its
   * answer does not decode, or with the connection's failure.
   */
  public static CompletionStage<Done> register(
      ActorSystem<?> system,
      String proxyHost,
      int proxyPort,
      Packet.Registration registration,
      Duration timeout,
      Duration replyWait) {
    Pair<
            Pair<CompletionStage<Tcp.OutgoingConnection>, UniqueKillSwitch>,
            CompletionStage<List<Decoded>>>
        running =
            Source.single(PacketCodec.encode(registration))
                .viaMat(
                    Tcp.get(system)
                        .outgoingConnection(
                            new InetSocketAddress(proxyHost, proxyPort),
                            Optional.empty(),
                            List.of(),
                            // Half-close once written: the proxy answers what it has and closes.
                            true,
                            Optional.of(timeout),
                            Optional.empty()),
                    Keep.right())
                .via(PacketFraming.flow(MAX_REPLY_BYTES))
                .map(PacketCodec::decode)
                .viaMat(KillSwitches.single(), Keep.both())
                .completionTimeout(timeout.plus(replyWait))
                .toMat(Sink.seq(), Keep.both())
                .run(system);
    UniqueKillSwitch stopWaiting = running.first().second();
    // The wait for a refusal starts once connected; then silence means accepted.
    running
        .first()
        .first()
        .thenAcceptAsync(
            connected ->
                system
                    .scheduler()
                    .scheduleOnce(replyWait, stopWaiting::shutdown, system.executionContext()),
            SAME_THREAD);
    return running
        .second()
        .thenApplyAsync(
            replies -> {
              for (Decoded reply : replies) {
                if (reply instanceof Decoded.Refused unreadable) {
                  throw new UnreadableAnswerException(unreadable);
                } else if (((Decoded.Ok) reply).packet() instanceof Packet.Error error) {
                  throw new RefusedException(error.code(), error.message());
                }
              }
              return Done.getInstance();
            },
            SAME_THREAD);
  }

  /**
   * Registers as {@code settings} say: up to {@code registration-attempts} tries, backing off
   * between the configured bounds with jitter. Unreachable proxies and conflicts are retried; a
   * refusal for any other reason, or an unreadable answer, is final. Fails with a {@link
   * FailedException} naming the proxy and the last cause.
   */
  public static CompletionStage<Done> registerWithRetries(
      ActorSystem<?> system, Packet.Registration registration, ServerSettings settings) {
    String proxy = settings.proxyHost() + ":" + settings.proxyPort();
    AtomicInteger attempt = new AtomicInteger();
    // A final answer is carried out of Patterns.retry as a value, so that it is not retried.
    CompletionStage<Object> outcome =
        Patterns.retry(
            () -> {
              int number = attempt.incrementAndGet();
              return register(
                      system,
                      settings.proxyHost(),
                      settings.proxyPort(),
                      registration,
                      settings.registrationTimeout(),
                      settings.registrationReplyWait())
                  .<Object>thenApply(done -> done)
                  .exceptionallyCompose(
                      failure -> {
                        Throwable cause = unwrap(failure);
                        if (cause instanceof RefusedException refused && !refused.retryable()
                            || cause instanceof UnreadableAnswerException) {
                          return CompletableFuture.completedStage(cause);
                        }
                        if (number < settings.registrationAttempts()) {
                          log.warn(
                              "Could not register with the proxy at {} (attempt {} of {}): {}",
                              proxy,
                              number,
                              settings.registrationAttempts(),
                              rootMessage(cause));
                        }
                        return CompletableFuture.failedStage(cause);
                      });
            },
            settings.registrationAttempts() - 1,
            settings.registrationMinBackoff(),
            settings.registrationMaxBackoff(),
            BACKOFF_JITTER,
            system);
    return outcome.handleAsync(
        (result, failure) -> {
          if (result instanceof RuntimeException finalAnswer) {
            throw finalAnswer;
          } else if (failure != null) {
            throw new FailedException(proxy, attempt.get(), unwrap(failure));
          }
          return Done.getInstance();
        },
        SAME_THREAD);
  }

  private static Throwable unwrap(Throwable failure) {
    Throwable cause = failure;
    while (cause instanceof CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause;
  }
}
