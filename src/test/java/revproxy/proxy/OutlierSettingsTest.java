package revproxy.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import revproxy.cluster.NodeConfig;

class OutlierSettingsTest {

  private static OutlierSettings with(String outlier) {
    return OutlierSettings.fromConfig(
        ConfigFactory.parseString("revproxy.proxy.outlier { " + outlier + " }")
            .withFallback(NodeConfig.defaults())
            .getConfig("revproxy.proxy"));
  }

  @Test
  void theShippedWarmUpEjectsANewRouteeForOneSecondWithinTenSecondsOfItsFirstAnswer() {
    OutlierSettings settings = with("");
    assertEquals(Duration.ofSeconds(10), settings.warmUp());
    assertEquals(Duration.ofSeconds(1), settings.warmUpEjectionTime());
    assertEquals(Duration.ofSeconds(10), settings.ejectionTime());
  }

  @Test
  void aWarmUpEjectionTimeOfZeroOrLongerThanTheLongestEjectionIsRefused() {
    assertEquals(
        "revproxy.proxy.outlier.warm-up must not be negative, and warm-up-ejection-time must be"
            + " positive",
        assertThrows(IllegalArgumentException.class, () -> with("warm-up-ejection-time = 0s"))
            .getMessage());
    assertEquals(
        "revproxy.proxy.outlier.max-ejection-time must not be less than ejection-time or"
            + " warm-up-ejection-time",
        assertThrows(
                IllegalArgumentException.class,
                () -> with("warm-up-ejection-time = 10m, max-ejection-time = 5m"))
            .getMessage());
    assertEquals(Duration.ZERO, with("warm-up = 0s").warmUp());
  }
}
