package revproxy.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import java.util.Set;
import java.util.TreeSet;

/**
 * The settings under {@code revproxy}: exactly those of our reference.conf. Any other is a typo
 * (or a setting of another version) that would otherwise be silently ignored, so the node refuses
 * to start and names it, with the sibling it probably meant.
 */
final class KnownSettings {

  private static final String ROOT = "revproxy";
  /** Suggest a sibling at most this many edits away. */
  private static final int MAX_DISTANCE = 2;

  private KnownSettings() {}

  /** @throws IllegalArgumentException naming the first unknown setting, in alphabetical order */
  static void check(Config config) {
    ConfigValue given = config.root().get(ROOT);
    if (given instanceof ConfigObject object) {
      check(object, (ConfigObject) ConfigFactory.defaultReferenceUnresolved().root().get(ROOT), ROOT);
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
    String best = null;
    int bestDistance = MAX_DISTANCE + 1;
    for (String sibling : new TreeSet<>(siblings)) {
      int distance = distance(key, sibling);
      if (distance < bestDistance) {
        best = sibling;
        bestDistance = distance;
      }
    }
    return best == null ? "" : " (did you mean " + path + "." + best + "?)";
  }

  /** Levenshtein distance: insertions, deletions and substitutions. */
  static int distance(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[b.length()];
  }
}
