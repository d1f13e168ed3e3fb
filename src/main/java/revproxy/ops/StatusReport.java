package revproxy.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What the {@code status} role prints: the members (from {@code /cluster/members}) and the policy
 * table (from {@code /routing}, absent when the endpoint's node runs no proxy), as aligned text
 * tables or as one JSON object. Plain: it formats what the endpoint answered.
 */
public final class StatusReport {

  private final JsonNode members;
  private final JsonNode routing;

  /** {@code routing} is null when the node has no routing table. */
  public StatusReport(JsonNode members, JsonNode routing) {
    this.members = members;
    this.routing = routing;
  }

  /** {"members": ..., "routing": ... or null}. */
  public String json() {
    ObjectNode root = JsonNodeFactory.instance.objectNode();
    root.set("members", members);
    root.set("routing", routing == null ? JsonNodeFactory.instance.nullNode() : routing);
    return root.toPrettyString() + System.lineSeparator();
  }

  public String text() {
    StringBuilder out = new StringBuilder();
    Set<String> unreachable = new HashSet<>();
    for (JsonNode entry : members.path("unreachable")) {
      unreachable.add(entry.path("node").asText());
    }
    out.append("Members (leader ").append(members.path("leader").asText("none")).append(")\n");
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"ADDRESS", "ROLES", "STATUS", "REACHABLE"});
    for (JsonNode member : members.path("members")) {
      List<String> roles = new ArrayList<>();
      for (JsonNode role : member.path("roles")) {
        if (!role.asText().startsWith("dc-")) {
          roles.add(role.asText());
        }
      }
      String node = member.path("node").asText();
      rows.add(
          new String[] {
            node,
            String.join(",", roles),
            member.path("status").asText(),
            unreachable.contains(node) ? "NO" : "yes"
          });
    }
    table(out, rows);
    if (routing == null) {
      out.append("\nPolicies: this node runs no proxy (ask a proxy's endpoint for them)\n");
      return out.toString();
    }
    out.append("\nPolicies\n");
    rows = new ArrayList<>();
    rows.add(new String[] {"POLICY", "WORKER", "NODE", "STATE", "IN FLIGHT"});
    for (JsonNode policy : routing.path("policies")) {
      JsonNode routees = policy.path("routees");
      if (routees.isEmpty()) {
        rows.add(new String[] {policy.path("policy").asText(), "-", "-", "no worker", "-"});
      }
      for (JsonNode routee : routees) {
        rows.add(
            new String[] {
              policy.path("policy").asText(),
              routee.path("id").isNull() ? "?" : routee.path("id").asText(),
              routee.path("node").asText(),
              routee.path("state").asText(),
              routee.path("inFlight").asText()
            });
      }
    }
    table(out, rows);
    return out.toString();
  }

  /** Left-aligned columns two spaces apart, indented by two. */
  private static void table(StringBuilder out, List<String[]> rows) {
    int[] widths = new int[rows.get(0).length];
    for (String[] row : rows) {
      for (int i = 0; i < row.length; i++) {
        widths[i] = Math.max(widths[i], row[i].length());
      }
    }
    for (String[] row : rows) {
      StringBuilder line = new StringBuilder("  ");
      for (int i = 0; i < row.length; i++) {
        line.append(row[i]);
        if (i < row.length - 1) {
          line.append(" ".repeat(widths[i] - row[i].length() + 2));
        }
      }
      out.append(line.toString().stripTrailing()).append('\n');
    }
  }
}
