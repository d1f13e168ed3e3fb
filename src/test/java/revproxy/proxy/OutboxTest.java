package revproxy.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** {@link Outbox#layout}: which message carries each request, so that round robin stays exact. */
class OutboxTest {

  private static int[] sizes(int count, int chars) {
    int[] sizes = new int[count];
    Arrays.fill(sizes, chars);
    return sizes;
  }

  @Test
  void fullRowsGoAsOneMessagePerRouteeAndTheRestOneByOne() {
    // 3 routees, 8 requests: rows (0 1 2) (3 4 5) as messages 0, 1, 2; then 6 and 7 alone.
    assertArrayEquals(new int[] {0, 1, 2, 0, 1, 2, 3, 4}, Outbox.layout(sizes(8, 10), 3, 64, 1000));
  }

  @Test
  void fewerRequestsThanRouteesGoOneByOne() {
    assertArrayEquals(new int[] {0, 1}, Outbox.layout(sizes(2, 10), 3, 64, 1000));
    assertArrayEquals(new int[] {}, Outbox.layout(new int[0], 3, 64, 1000));
  }

  @Test
  void oneRouteeOrDirectAttemptsGoInRunsOfMaxRequests() {
    assertArrayEquals(new int[] {0, 0, 0, 1, 1, 1, 2}, Outbox.layout(sizes(7, 10), 1, 3, 1000));
  }

  @Test
  void aRunEndsBeforeAMessageWouldPassMaxChars() {
    // 2 routees; column chars: 40 + 40 = 80 fits 100, a third row would make 120.
    assertArrayEquals(
        new int[] {0, 1, 0, 1, 2, 3, 2, 3, 4}, Outbox.layout(sizes(9, 40), 2, 64, 100));
    // A request larger than max-chars goes, alone in its column, all the same.
    assertArrayEquals(new int[] {0, 1, 2, 3}, Outbox.layout(new int[] {500, 1, 1, 1}, 2, 64, 100));
  }
}
