package revproxy.util;

import java.util.concurrent.Executor;

/** Small helpers for Akka's CompletionStages, shared by every role. */
public final class Completions {

  /**
   * Runs a callback on the thread that completes the stage. Akka's CompletionStages run callbacks
   * given without an executor on the common pool, which on 2 cores starts a thread per task.
   */
  public static final Executor SAME_THREAD = Runnable::run;

  private Completions() {}

  /** The message of the innermost cause, for a readable one-line reason. */
  public static String rootMessage(Throwable failure) {
    Throwable root = root(failure);
    return root.getMessage() != null ? root.getMessage() : root.getClass().getSimpleName();
  }

  /** The innermost cause of {@code failure}: what really went wrong. */
  public static Throwable root(Throwable failure) {
    Throwable root = failure;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root;
  }
}
