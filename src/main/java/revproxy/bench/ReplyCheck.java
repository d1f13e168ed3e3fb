package revproxy.bench;

import static revproxy.bench.Problems.sample;

import java.nio.charset.StandardCharsets;

/**
 * Checks one reply exactly against the request it answers and counts it: type "2" with {@code
 * destid} equal to the request's {@code srcid} ("{@code <connection>-<seq>}") and {@code payload}
 * equal to the SHA-1 hex of the payload sent is right; type "3" is an error, counted by its {@code
 * code}; anything else is wrong. What is not right is described as a problem. One per selector
 * loop: its scratch space is used by one connection at a time, and a check allocates nothing.
 */
final class ReplyCheck {

  private final RequestPool pool;
  private final Problems problems;
  private final ReplyFields reply = new ReplyFields();
  private final byte[] digits = new byte[RequestPool.Digits.MAX];
  private final byte[] expectedSrcid = new byte[32];

  ReplyCheck(RequestPool pool, Problems problems) {
    this.pool = pool;
    this.problems = problems;
  }

  /**
   * Counts in {@code phase} the reply in {@code bytes[start, end)} to request {@code seq} of
   * connection {@code id}, whose srcids start with {@code srcidPrefix}; whether it is right.
   */
  boolean check(
      byte[] bytes, int start, int end, int id, byte[] srcidPrefix, long seq, Outcomes phase) {
    if (!reply.parse(bytes, start, end)) {
      phase.addWrong();
      problems.add("malformed reply to " + id + "-" + seq + ": " + sample(bytes, start, end));
      return false;
    }
    char type = reply.type();
    if (type == '2') {
      int srcidLength = expectedSrcid(srcidPrefix, seq);
      byte[] hash = pool.expectedHash(id, seq);
      if (reply.isString(ReplyFields.DESTID, expectedSrcid, 0, srcidLength)
          && reply.isString(ReplyFields.PAYLOAD, hash)) {
        phase.addOk();
        return true;
      }
      phase.addWrong();
      problems.add(
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
    } else if (type == '3') {
      phase.addError(reply.text(ReplyFields.CODE));
      problems.add("error reply to " + id + "-" + seq + ": " + sample(bytes, start, end));
    } else {
      phase.addWrong();
      problems.add("unexpected reply type to " + id + "-" + seq + ": " + sample(bytes, start, end));
    }
    return false;
  }

  /** Writes "<id>-<seq>" into the scratch array; returns its length. */
  private int expectedSrcid(byte[] srcidPrefix, long seq) {
    System.arraycopy(srcidPrefix, 0, expectedSrcid, 0, srcidPrefix.length);
    int length = RequestPool.Digits.write(seq, digits);
    System.arraycopy(digits, digits.length - length, expectedSrcid, srcidPrefix.length, length);
    return srcidPrefix.length + length;
  }
}
