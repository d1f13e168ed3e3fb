package revproxy.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import java.util.Set;
import java.util.TreeSet;
import revproxy.util.Suggestions;

/**
 * The settings under {@code revproxy}: exactly those of our reference.conf. Any other is a typo (or
 * a setting of another version) that would otherwise be silently ignored, so the node refuses to
 * start and names it, with the sibling it probably meant.
 */
final class KnownSettings {

  private static final String ROOT = "revproxy";

  private KnownSettings() {}

  /**
   * @throws IllegalArgumentException naming the first unknown setting, in alphabetical order
   */
  static void check(Config config) {
    ConfigValue given = config.root().get(ROOT);
    if (given instanceof ConfigObject object) {
      check(
          object, (ConfigObject) ConfigFactory.defaultReferenceUnresolved().root().get(ROOT), ROOT);
    }
  }

  private static void check(ConfigObject given, ConfigObject known, String path) {
    for (String key : new TreeSet<>(given.keySet())) {
      ConfigValue knownValue = known.get(key);
      if (knownValue == null) {
        throw new IllegalArgumentException(
            "unknown setting " + path + "." + key + suggestion(key, known.keySet(), path));
      }
      if (knownValue instanceof ConfigObject knownObject
          && given.get(key) instanceof ConfigObject givenObject) {
        check(givenObject, knownObject, path + "." + key);
      }
    }
  }

  private static String suggestion(String key, Set<String> siblings, String path) {
    return Suggestions.closest(key, siblings)
        .map(sibling -> " (did you mean " + path + "." + sibling + "?)")
        .orElse("");
  }
}
