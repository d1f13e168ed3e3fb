package revproxy.cluster;

import akka.actor.CoordinatedShutdown;
import java.net.BindException;
import revproxy.util.Completions;

/**
 * Why a node stopped: one of its ports could not be bound. The command that runs the node says so
 * in one line ({@link #message()}) and exits 1.
 */
public record BindFailure(String message) implements CoordinatedShutdown.Reason {

  /** {@code what} ("client port", ...) could not listen on {@code host:port}: {@code cause}. */
  public static BindFailure of(String what, String host, int port, Throwable cause) {
    Throwable root = Completions.root(cause);
    if (root instanceof BindException
        && String.valueOf(root.getMessage()).contains("Address already in use")) {
      return new BindFailure("port " + port + " on " + host + " is already in use (" + what + ")");
    }
    return new BindFailure(
        "cannot listen on "
            + host
            + ":"
            + port
            + " ("
            + what
            + "): "
            + Completions.rootMessage(cause));
  }

  /** Whether {@code failure} is, at its root, a port that could not be bound. */
  public static boolean isBindFailure(Throwable failure) {
    return Completions.root(failure) instanceof BindException;
  }
}
