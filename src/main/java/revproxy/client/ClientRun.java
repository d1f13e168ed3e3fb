package revproxy.client;

import java.io.PrintStream;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import revproxy.protocol.Decoded;
import revproxy.protocol.Packet;
import revproxy.protocol.PayloadHash;

/**
 * One client run as the command line sees it: optionally wait for workers, send the packets, print
 * a line per packet and a summary, and decide the exit status (0 only if all verified).
 */
public final class ClientRun {

  private ClientRun() {}

  /**
   * @param expectWorkers policy -> number of distinct workers that must serve it: waited for before
   *     sending (readiness) and checked after (round robin spread); empty to skip both
   * @return the process exit status: 0 if every reply verified (and spread as expected), else 1
   */
  public static int run(
      ProxyClient client,
      List<PacketFile> packets,
      Map<String, Integer> expectWorkers,
      Duration readinessWait,
      PrintStream out) {
    if (!expectWorkers.isEmpty() && !awaitReadiness(client, expectWorkers, readinessWait, out)) {
      return 1;
    }
    List<Exchange> exchanges;
    try {
      exchanges = client.send(packets);
    } catch (ProxyClient.ConnectionFailedException e) {
      out.println("error: " + e.getMessage());
      return 1;
    }
    Map<Exchange.Verdict, Integer> counts = new EnumMap<>(Exchange.Verdict.class);
    Map<String, Map<String, Integer>> workersByPolicy = new TreeMap<>();
    for (Exchange exchange : exchanges) {
      out.println(line(exchange));
      counts.merge(exchange.verdict(), 1, Integer::sum);
      if (exchange.workerId() != null) {
        workersByPolicy
            .computeIfAbsent(exchange.sent().request().policyId(), p -> new TreeMap<>())
            .merge(exchange.workerId(), 1, Integer::sum);
      }
    }
    int correct = counts.getOrDefault(Exchange.Verdict.CORRECT, 0);
    out.printf(
        "%n%d packets: %d correct, %d NOT correct, %d errors, %d without reply%n",
        exchanges.size(),
        correct,
        counts.getOrDefault(Exchange.Verdict.NOT_CORRECT, 0),
        counts.getOrDefault(Exchange.Verdict.ERROR, 0),
        counts.getOrDefault(Exchange.Verdict.MISSING, 0));
    workersByPolicy.forEach(
        (policy, workers) -> out.printf("policy %s served by workers %s%n", policy, workers));
    boolean spread = checkSpread(expectWorkers, packets, workersByPolicy, out);
    boolean ok = correct == exchanges.size() && spread;
    out.println(ok ? "RESULT: OK" : "RESULT: FAILED");
    return ok ? 0 : 1;
  }

  private static boolean awaitReadiness(
      ProxyClient client, Map<String, Integer> expect, Duration wait, PrintStream out) {
    out.printf(
        "Waiting up to %ds for workers %s (policy=count)%n",
        wait.toSeconds(), new TreeMap<>(expect));
    Map<String, Set<String>> seen = client.awaitWorkers(expect, wait);
    if (ProxyClient.satisfied(expect, seen)) {
      out.printf("Ready: workers per policy %s%n%n", new TreeMap<>(seen));
      return true;
    }
    out.printf(
        "error: not ready after %ds: expected workers %s, probes reached %s%n",
        wait.toSeconds(), new TreeMap<>(expect), new TreeMap<>(seen));
    return false;
  }

  /**
   * Round robin spreads a policy's packets over its workers: a policy sent at least as many packets
   * as workers expected must have been served by that many. With fewer packets the run cannot show
   * it, and --expect-workers then only waited for readiness.
   */
  private static boolean checkSpread(
      Map<String, Integer> expect,
      List<PacketFile> packets,
      Map<String, Map<String, Integer>> used,
      PrintStream out) {
    Map<String, Integer> sent = new TreeMap<>();
    for (PacketFile packet : packets) {
      sent.merge(packet.request().policyId(), 1, Integer::sum);
    }
    boolean ok = true;
    for (Map.Entry<String, Integer> policy : new TreeMap<>(expect).entrySet()) {
      Set<String> workers = new TreeSet<>(used.getOrDefault(policy.getKey(), Map.of()).keySet());
      boolean canShow = sent.getOrDefault(policy.getKey(), 0) >= policy.getValue();
      if (canShow && workers.size() < policy.getValue()) {
        out.printf(
            "error: policy %s was served by %s, expected %d distinct workers%n",
            policy.getKey(), workers, policy.getValue());
        ok = false;
      }
    }
    return ok;
  }

  static String line(Exchange exchange) {
    Packet.Request request = exchange.sent().request();
    String prefix =
        String.format(
            "%-16s srcid=%-6s policy=%-5s worker=%-5s ",
            exchange.sent().name(),
            request.srcid(),
            request.policyId(),
            exchange.workerId() == null ? "-" : exchange.workerId());
    return prefix
        + switch (exchange.verdict()) {
          case CORRECT -> "Hash of payload is correct";
          case NOT_CORRECT -> notCorrect(request, exchange.reply());
          case ERROR -> {
            Packet.Error error = (Packet.Error) exchange.packet();
            yield "ERROR " + error.code() + ": " + error.message();
          }
          case MISSING -> "NO REPLY (connection closed or timed out)";
        };
  }

  private static String notCorrect(Packet.Request request, Decoded reply) {
    if (reply instanceof Decoded.Refused unreadable) {
      // Not an error the proxy reported: the reply itself could not be read.
      return "Hash of payload is NOT correct (unreadable reply: "
          + unreadable.code().wire()
          + ": "
          + unreadable.message()
          + ")";
    }
    if (reply instanceof Decoded.Ok ok && ok.packet() instanceof Packet.Reply answer) {
      return String.format(
          "Hash of payload is NOT correct (expected %s for destid %s, got %s for destid %s)",
          PayloadHash.sha1Hex(request.payload()),
          request.srcid(),
          answer.payloadHash(),
          answer.destId());
    }
    return "Hash of payload is NOT correct (got a request packet back)";
  }
}
