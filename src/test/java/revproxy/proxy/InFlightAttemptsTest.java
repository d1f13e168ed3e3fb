package revproxy.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class InFlightAttemptsTest {

  private static final long TIMEOUT = 1000;

  private static Attempt attempt(String srcid) {
    return Attempt.first(null, new RouterActor.Route(srcid, "p", "x", null), 0, Long.MAX_VALUE);
  }

  @Test
  void anAnsweredAttemptIsReturnedOnceAndNeverExpires() {
    InFlightAttempts inFlight = new InFlightAttempts(TIMEOUT);
    Attempt a = attempt("a");
    inFlight.add(7, a, 0, TIMEOUT);
    assertEquals(1, inFlight.size());
    assertSame(a, inFlight.answered(7));
    assertNull(inFlight.answered(7), "a second reply is a late one");
    assertEquals(List.of(), inFlight.expire(5 * TIMEOUT));
    assertTrue(inFlight.isEmpty());
  }

  @Test
  void attemptsExpireInTheOrderTheyWereSentAndOnlyOnceTheirTimeIsUp() {
    InFlightAttempts inFlight = new InFlightAttempts(TIMEOUT);
    Attempt a = attempt("a");
    Attempt b = attempt("b");
    Attempt c = attempt("c");
    inFlight.add(1, a, 0, TIMEOUT);
    inFlight.add(2, b, 10, TIMEOUT);
    inFlight.add(3, c, 20, TIMEOUT);
    assertEquals(List.of(), inFlight.expire(999));
    assertEquals(List.of(a), inFlight.expire(1000));
    assertSame(c, inFlight.answered(3));
    assertEquals(List.of(b), inFlight.expire(5000));
    assertTrue(inFlight.isEmpty());
    assertNull(inFlight.answered(2), "expired: a late reply matches nothing");
  }

  @Test
  void anAttemptCutShortByItsDeadlineExpiresFirstEvenIfSentLater() {
    InFlightAttempts inFlight = new InFlightAttempts(TIMEOUT);
    Attempt full = attempt("full");
    Attempt short1 = attempt("short");
    inFlight.add(1, full, 0, TIMEOUT);
    inFlight.add(2, short1, 100, 50);
    assertEquals(List.of(short1), inFlight.expire(150));
    assertEquals(List.of(full), inFlight.expire(1000));
  }

  @Test
  void anAnsweredAttemptLetsGoOfItsRequestAtOnce() {
    InFlightAttempts inFlight = new InFlightAttempts(TIMEOUT);
    for (int i = 0; i < 1000; i++) {
      inFlight.add(i, attempt("r" + i), i, TIMEOUT);
    }
    for (int i = 0; i < 1000; i++) {
      inFlight.answered(i);
    }
    assertTrue(inFlight.isEmpty());
    assertEquals(List.of(), inFlight.expire(10 * TIMEOUT));
  }
}
