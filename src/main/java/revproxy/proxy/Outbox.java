package revproxy.proxy;

import akka.actor.typed.ActorRef;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import revproxy.routee.Routee;

/**
 * Attempts for routees on other nodes, held for the rest of the router's turn and then sent with as
 * few remote messages as round robin allows: each remote message costs a serialization, an Artery
 * envelope and a dispatch on both sides, whatever it carries.
 *
 * <p><b>Through the group router</b> the group router picks one routee per <i>message</i>, while
 * round robin is per <i>request</i>. So the first attempts of a policy are laid out in rows of one
 * request per routee ({@link #layout}): with {@code n} routees, {@code k} full rows go as {@code n}
 * {@link Routee.HashBatch} messages, message {@code j} carrying the requests at {@code j, j + n,
 * ...} (so to the routee the group router would have picked for each of them alone), and the
 * requests of a last, partial row go one message each. The group router then ends where it would
 * have after one message per request, and every request reaches the routee it would have reached
 * alone: the round robin stays exact per request.
 *
 * <p><b>Direct attempts</b> (retries, probes) for one routee go as one batch.
 *
 * <p>A batch carries at most {@code maxRequests} requests and {@code maxChars} characters of srcids
 * and payloads (Artery's frame is 256 KiB), a request larger than that alone. Plain and
 * single-threaded: it lives inside the {@link AttemptDispatcher}, flushed at the end of a run of
 * requests and before anything else the {@code RouterActor} handles.
 */
final class Outbox {

  /** What the router does for each attempt as it is sent, and how it sends a message. */
  interface Sender {
    /** Records {@code attempt} as sent (in flight, its routee busy) and returns its message. */
    Routee.Hash sent(Attempt attempt);

    void tell(ActorRef<Routee.Command> to, Routee.Command message);
  }

  private final int maxRequests;
  private final int maxChars;
  private final Map<Policy, List<Attempt>> viaGroupRouter = new LinkedHashMap<>();
  private final Map<ActorRef<Routee.Command>, List<Routee.Hash>> direct = new LinkedHashMap<>();

  Outbox(int maxRequests, int maxChars) {
    this.maxRequests = Math.max(1, maxRequests);
    this.maxChars = Math.max(1, maxChars);
  }

  boolean isEmpty() {
    return viaGroupRouter.isEmpty() && direct.isEmpty();
  }

  /** A first attempt, not sent yet, to go through its policy's group router. */
  void viaGroupRouter(Attempt attempt) {
    viaGroupRouter.computeIfAbsent(attempt.policy(), policy -> new ArrayList<>()).add(attempt);
  }

  /** A direct attempt's message, already recorded as sent. */
  void direct(ActorRef<Routee.Command> routee, Routee.Hash hash) {
    direct.computeIfAbsent(routee, routee1 -> new ArrayList<>()).add(hash);
  }

  /** Sends everything held, at {@code now}. */
  void flush(Sender sender, long now) {
    for (Map.Entry<Policy, List<Attempt>> entry : viaGroupRouter.entrySet()) {
      flushGroup(entry.getKey(), entry.getValue(), sender, now);
    }
    viaGroupRouter.clear();
    for (Map.Entry<ActorRef<Routee.Command>, List<Routee.Hash>> entry : direct.entrySet()) {
      List<Routee.Hash> hashes = entry.getValue();
      int[] chars = new int[hashes.size()];
      for (int i = 0; i < chars.length; i++) {
        chars[i] = chars(hashes.get(i));
      }
      int[] messageOf = layout(chars, 1, maxRequests, maxChars);
      send(entry.getKey(), hashes, messageOf, sender);
    }
    direct.clear();
  }

  private void flushGroup(Policy policy, List<Attempt> attempts, Sender sender, long now) {
    int n = Math.max(1, policy.routees.routees().size());
    int[] chars = new int[attempts.size()];
    for (int i = 0; i < chars.length; i++) {
      RouterActor.Route route = attempts.get(i).route();
      chars[i] = route.srcid().length() + route.payload().length();
    }
    int[] messageOf = layout(chars, n, maxRequests, maxChars);
    List<Routee.Hash> hashes = new ArrayList<>(attempts.size());
    for (int i = 0; i < attempts.size(); i++) {
      PolicyRoutees.GroupSend pick = policy.routees.viaGroupRouter(messageOf[i]);
      hashes.add(sender.sent(attempts.get(i).sentTo(pick.routee(), pick, now)));
    }
    int messages = send(policy.groupRouter, hashes, messageOf, sender);
    policy.routees.groupMessagesSent(messages);
  }

  /** Sends {@code hashes} to {@code to} as {@code messageOf} lays them out; returns the count. */
  private static int send(
      ActorRef<Routee.Command> to, List<Routee.Hash> hashes, int[] messageOf, Sender sender) {
    int messages = hashes.isEmpty() ? 0 : messageOf[messageOf.length - 1] + 1;
    List<List<Routee.Hash>> byMessage = new ArrayList<>(messages);
    for (int m = 0; m < messages; m++) {
      byMessage.add(new ArrayList<>(2));
    }
    for (int i = 0; i < hashes.size(); i++) {
      byMessage.get(messageOf[i]).add(hashes.get(i));
    }
    for (List<Routee.Hash> message : byMessage) {
      sender.tell(to, message.size() == 1 ? message.get(0) : new Routee.HashBatch(message));
    }
    return messages;
  }

  private static int chars(Routee.Hash hash) {
    return hash.srcid().length() + hash.payload().length();
  }

  /**
   * Which message carries each of the requests whose sizes are {@code chars}, in order, when a
   * group router picks one of {@code n} routees per message in turn: the message index of each,
   * messages numbered in the order they must be sent. Full rows of {@code n} requests are grouped
   * into runs of rows; a run goes as {@code n} messages, message {@code j} of the run carrying the
   * run's requests {@code j, j + n, ...} (so each reaches the routee it would reach alone). A run
   * ends before its messages would exceed {@code maxRequests} requests or {@code maxChars} (it has
   * at least one row). Requests past the last full row go one message each.
   */
  static int[] layout(int[] chars, int n, int maxRequests, int maxChars) {
    int count = chars.length;
    int[] messageOf = new int[count];
    int message = 0;
    int i = 0;
    long[] columnChars = new long[n];
    while (count - i >= n) {
      int runStart = i;
      int rows = 0;
      Arrays.fill(columnChars, 0);
      while (count - i >= n && rows < maxRequests) {
        boolean fits = true;
        for (int j = 0; j < n && rows > 0; j++) {
          fits &= columnChars[j] + chars[i + j] <= maxChars;
        }
        if (!fits) {
          break;
        }
        for (int j = 0; j < n; j++) {
          columnChars[j] += chars[i + j];
          messageOf[i + j] = message + j;
        }
        i += n;
        rows++;
      }
      message += n;
      assert i > runStart;
    }
    for (; i < count; i++) {
      messageOf[i] = message++;
    }
    return messageOf;
  }
}
