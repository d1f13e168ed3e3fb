package revproxy.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReplyCheckTest {

  private final RequestPool pool = new RequestPool(16, List.of("111"), 7);
  private final Problems problems = new Problems();
  private final ReplyCheck check = new ReplyCheck(pool, problems);
  private final Outcomes phase = new Outcomes();

  private boolean check(String reply, int id, long seq) {
    byte[] bytes = ("xx" + reply).getBytes(StandardCharsets.UTF_8);
    return check.check(bytes, 2, bytes.length, id, ReplyFields.ascii(id + "-"), seq, phase);
  }

  private String hash(int id, long seq) {
    return new String(pool.expectedHash(id, seq), StandardCharsets.US_ASCII);
  }

  @Test
  void aReplyToItsRequestWithTheRightHashIsOk() {
    String reply =
        "{\"type\": \"2\", \"id\": \"w\", \"destid\": \"3-12\", \"payload\": \""
            + hash(3, 12)
            + "\"}";
    assertTrue(check(reply, 3, 12));
    assertEquals(1, phase.ok());
    assertEquals(List.of(), problems.list());
  }

  @Test
  void aReplyToAnotherRequestOrWithAnotherHashIsWrong() {
    String otherDestid =
        "{\"type\": \"2\", \"destid\": \"3-11\", \"payload\": \"" + hash(3, 12) + "\"}";
    String otherHash =
        "{\"type\": \"2\", \"destid\": \"3-12\", \"payload\": \"" + hash(3, 13) + "\"}";
    assertFalse(hash(3, 12).equals(hash(3, 13)), "two requests with payloads of their own");
    assertFalse(check(otherDestid, 3, 12));
    assertFalse(check(otherHash, 3, 12));
    assertEquals(0, phase.ok());
    assertEquals(2, phase.wrong());
    assertTrue(problems.list().get(0).startsWith("wrong reply to 3-12"), problems.list().get(0));
  }

  @Test
  void anErrorReplyIsCountedByItsCode() {
    assertFalse(
        check(
            "{\"type\": \"3\", \"code\": \"no_worker\", \"message\": \"none\", \"destid\": \"1-0\"}",
            1,
            0));
    assertEquals(Map.of("no_worker", 1L), phase.errors());
    assertTrue(problems.list().get(0).startsWith("error reply to 1-0"));
  }

  @Test
  void anotherTypeOrSomethingThatIsNotAReplyIsWrong() {
    assertFalse(check("{\"type\": \"1\", \"destid\": \"1-0\"}", 1, 0));
    assertFalse(check("{\"type\": ", 1, 1));
    assertEquals(2, phase.wrong());
    assertTrue(problems.list().get(0).startsWith("unexpected reply type to 1-0"));
    assertTrue(problems.list().get(1).startsWith("malformed reply to 1-1"));
  }
}
