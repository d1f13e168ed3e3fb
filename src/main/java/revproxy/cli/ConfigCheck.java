package revproxy.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import java.io.PrintWriter;
import java.util.List;
import java.util.TreeSet;

/**
 * What {@code --check} prints once the configuration and the options have been validated, as {@code
 * haproxy -c} does: the settings the role would run with, one {@code path = value} line each
 * (HOCON, as in application.conf), secrets hidden. Nothing is started or bound.
 */
final class ConfigCheck {

  private static final List<String> SECRETS =
      List.of("revproxy.legacy.registration.token", "revproxy.server.token");

  /**
   * The Akka settings that say where a cluster node runs and whom it joins, and that the product's
   * own (revproxy-akka.conf) are in effect.
   */
  private static final List<String> NODE_SETTINGS =
      List.of(
          "akka.actor.provider",
          "akka.actor.serialization-bindings.\"revproxy.cluster.CborSerializable\"",
          "akka.actor.allow-java-serialization",
          "akka.cluster.roles",
          "akka.cluster.seed-nodes",
          "akka.remote.artery.transport",
          "akka.remote.artery.canonical.hostname",
          "akka.remote.artery.canonical.port");

  /** Set by NodeConfig from the role's management port, not by anyone: shown as akka's below. */
  private static final String DERIVED = "revproxy.management.enabled";

  private static final List<String> MANAGEMENT_SETTINGS =
      List.of("akka.management.http.hostname", "akka.management.http.port");

  private ConfigCheck() {}

  /**
   * Prints the settings under {@code sections} (those {@code role} reads), after the Akka settings
   * of a {@code clusterNode}.
   */
  static int print(
      PrintWriter out, String role, Config config, boolean clusterNode, String... sections) {
    out.println("# " + role + ": the configuration and the options are valid; it would run with:");
    if (clusterNode) {
      NODE_SETTINGS.forEach(path -> printSetting(out, path, config.getValue(path)));
      if (config.getBoolean("revproxy.management.enabled")) {
        MANAGEMENT_SETTINGS.forEach(path -> printSetting(out, path, config.getValue(path)));
      }
    }
    for (String section : sections) {
      ConfigValue value = config.root().get("revproxy");
      for (String key : section.split("\\.")) {
        value = ((ConfigObject) value).get(key);
      }
      walk(out, "revproxy." + section, value);
    }
    out.flush();
    return 0;
  }

  /** Every setting under {@code path}, walking the tree: entrySet() would skip null ones. */
  private static void walk(PrintWriter out, String path, ConfigValue value) {
    if (value instanceof ConfigObject object) {
      for (String key : new TreeSet<>(object.keySet())) {
        walk(out, path + "." + key, object.get(key));
      }
    } else if (!path.equals(DERIVED)) {
      printSetting(out, path, value);
    }
  }

  private static void printSetting(PrintWriter out, String path, ConfigValue value) {
    boolean secret = SECRETS.contains(path) && !value.unwrapped().toString().isEmpty();
    out.println(
        path + " = " + (secret ? "\"<hidden>\"" : value.render(ConfigRenderOptions.concise())));
  }
}
