package revproxy.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class InFlightTest {

  @Test
  void repliesAnswerTheOldestRequestFirst() {
    InFlight inFlight = new InFlight(3);
    assertFalse(inFlight.oldestWritten(), "nothing in flight");
    assertEquals(0, inFlight.start(100, 110));
    assertEquals(1, inFlight.start(200, 210));
    assertEquals(110, inFlight.oldestSentAt());
    long seq = inFlight.answerOldest();
    assertEquals(0, seq);
    assertEquals(100, inFlight.intendedOf(seq));
    assertEquals(1, inFlight.count());
    assertEquals(210, inFlight.oldestSentAt());
  }

  @Test
  void isFullAtThePipeline() {
    InFlight inFlight = new InFlight(2);
    inFlight.start(0, 0);
    assertFalse(inFlight.isFull());
    inFlight.start(0, 0);
    assertTrue(inFlight.isFull());
    inFlight.answerOldest();
    assertFalse(inFlight.isFull());
  }

  @Test
  void afterARewindTheUnansweredAreWrittenAgainOldestFirstWithTheirDueTimes() {
    InFlight inFlight = new InFlight(4);
    inFlight.start(10, 10);
    inFlight.start(20, 20);
    inFlight.start(30, 30);
    inFlight.answerOldest();
    inFlight.rewind();
    assertTrue(inFlight.hasUnwritten());
    assertFalse(inFlight.oldestWritten(), "a reply cannot answer what is not written again yet");
    assertEquals(1, inFlight.rewrite(500));
    assertTrue(inFlight.oldestWritten());
    assertEquals(500, inFlight.oldestSentAt(), "sent again now");
    assertEquals(20, inFlight.intendedOf(1), "due when it was first due");
    assertEquals(2, inFlight.rewrite(510));
    assertFalse(inFlight.hasUnwritten());
    assertEquals(3, inFlight.start(40, 520), "new requests go on numbering");
  }

  @Test
  void clearGivesUpEveryRequestInFlight() {
    InFlight inFlight = new InFlight(4);
    inFlight.start(10, 10);
    inFlight.start(20, 20);
    List<Long> due = new ArrayList<>();
    assertEquals(2, inFlight.clear(due::add));
    assertEquals(List.of(10L, 20L), due);
    assertEquals(0, inFlight.count());
  }

  @Test
  void clearUnwrittenGivesUpOnlyThoseNotWrittenAgain() {
    InFlight inFlight = new InFlight(4);
    inFlight.start(10, 10);
    inFlight.start(20, 20);
    inFlight.start(30, 30);
    inFlight.rewind();
    inFlight.rewrite(100);
    List<Long> due = new ArrayList<>();
    assertEquals(2, inFlight.clearUnwritten(due::add));
    assertEquals(List.of(20L, 30L), due);
    assertEquals(1, inFlight.count());
    assertFalse(inFlight.hasUnwritten());
    assertEquals(1, inFlight.start(40, 200), "the given-up numbers are used again");
  }
}
