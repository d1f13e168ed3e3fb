package revproxy.protocol;

import akka.util.ByteString;
import java.time.Duration;

/** One unit cut out of a TCP byte stream by {@link PacketFraming}. */
public sealed interface Frame {

  /** The exact bytes of one complete top-level JSON object, from '{' to its matching '}'. */
  record Json(ByteString bytes) implements Frame {}

  /**
   * A run of bytes outside any JSON object that is not whitespace was skipped; reason is human
   * readable (e.g. "expected '{' but found 'h' (4 bytes skipped)").
   */
  record Garbage(String reason) implements Frame {}

  /** An object grew past the limit; this is the last frame the stage emits. */
  record TooLarge(int limit) implements Frame {}

  /**
   * An object was started but not finished within the packet timeout (a slow or stalled sender);
   * this is the last frame the stage emits.
   */
  record Incomplete(Duration timeout) implements Frame {}
}
