package revproxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import revproxy.cluster.NodeConfig;

/**
 * The repository's application.conf is the operator's file: it sets nothing, and lists every
 * setting of reference.conf commented out, with reference.conf's comments and defaults, so the two
 * cannot drift apart. reference.conf stays the one place the defaults are set.
 */
class ApplicationConfTest {

  private static final Path APPLICATION_CONF = Path.of("application.conf");
  private static final Path REFERENCE_CONF = Path.of("src/main/resources/reference.conf");
  private static final Pattern BLOCK = Pattern.compile("([a-z0-9-]+) \\{");
  private static final Pattern SETTING = Pattern.compile("([a-z0-9-]+) = (.+)");
  private static final Pattern COMMENTED_SETTING = Pattern.compile("#([a-z][a-z0-9.-]*) = (.+)");

  @Test
  void setsNothing() {
    assertTrue(ConfigFactory.parseFile(APPLICATION_CONF.toFile()).isEmpty());
  }

  @Test
  void listsEveryRevproxySettingOfReferenceConfWithItsCommentAndDefault() throws IOException {
    String expected = commentedOut(Files.readAllLines(REFERENCE_CONF));
    if (!Files.readString(APPLICATION_CONF).contains(expected)) {
      Path wanted = Path.of("target", "application.conf.revproxy-part");
      Files.writeString(wanted, expected);
      fail(
          "application.conf does not list reference.conf's settings as they are now: its revproxy"
              + " part should read as "
              + wanted);
    }
  }

  /** The Akka settings it mentions show the value the product really runs with. */
  @Test
  void showsTheShippedValueOfEveryAkkaSettingItMentions() throws IOException {
    Config defaults = NodeConfig.defaults();
    int akkaSettings = 0;
    for (String line : Files.readAllLines(APPLICATION_CONF)) {
      Matcher setting = COMMENTED_SETTING.matcher(line);
      if (setting.matches() && setting.group(1).startsWith("akka.")) {
        akkaSettings++;
        Config example = ConfigFactory.parseString(line.substring(1));
        assertEquals(
            defaults.getValue(setting.group(1)).unwrapped(),
            example.getValue(setting.group(1)).unwrapped(),
            line);
      }
    }
    assertTrue(akkaSettings > 0);
  }

  /**
   * reference.conf's {@code revproxy} block as an operator's file: each setting on one line with
   * its full path, commented out ({@code #revproxy.proxy.port = 2100}), under its comments.
   */
  private static String commentedOut(List<String> reference) {
    StringBuilder out = new StringBuilder();
    Deque<String> path = new ArrayDeque<>();
    boolean inRevproxy = false;
    for (String raw : reference) {
      String line = raw.strip();
      if (!inRevproxy) {
        inRevproxy = line.equals("revproxy {");
        if (inRevproxy) {
          path.addLast("revproxy");
        }
        continue;
      }
      Matcher block = BLOCK.matcher(line);
      Matcher setting = SETTING.matcher(line);
      if (line.isEmpty() || line.startsWith("#")) {
        out.append(line).append('\n');
      } else if (block.matches()) {
        path.addLast(block.group(1));
      } else if (line.equals("}")) {
        path.removeLast();
        if (path.isEmpty()) {
          break;
        }
      } else if (setting.matches()) {
        out.append('#')
            .append(String.join(".", path))
            .append('.')
            .append(setting.group(1))
            .append(" = ")
            .append(setting.group(2))
            .append('\n');
      } else {
        fail("reference.conf: write one setting, block or comment per line, not: " + raw);
      }
    }
    return out.toString();
  }
}
