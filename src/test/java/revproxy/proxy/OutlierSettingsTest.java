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
  void aWarmUpEjectionTimeOfZeroIsRefusedAndOneLongerThanTheEjectionTimeIsCutToIt() {
    assertEquals(
        "revproxy.proxy.outlier.warm-up-ejection-time must be positive",
        assertThrows(IllegalArgumentException.class, () -> with("warm-up-ejection-time = 0s"))
            .getMessage());
    assertEquals(Duration.ofSeconds(10), with("warm-up-ejection-time = 11s").warmUpEjectionTime());
    assertEquals(
        Duration.ofMillis(500),
        with("ejection-time = 500ms").warmUpEjectionTime(),
        "a shorter ejection-time without touching the warm-up is no error");
  }

  @Test
  void aNegativeWarmUpOrANonPositiveEjectionTimeIsRefusedAndAWarmUpOfZeroIsOff() {
    assertEquals(
        "revproxy.proxy.outlier.warm-up must not be negative",
        assertThrows(IllegalArgumentException.class, () -> with("warm-up = -1s")).getMessage());
    assertEquals(
        "revproxy.proxy.outlier.ejection-time must be positive",
        assertThrows(IllegalArgumentException.class, () -> with("ejection-time = 0s"))
            .getMessage());
    assertEquals(
        "revproxy.proxy.outlier.max-ejection-time must not be less than ejection-time",
        assertThrows(IllegalArgumentException.class, () -> with("max-ejection-time = 5s"))
            .getMessage());
    assertEquals(Duration.ZERO, with("warm-up = 0s").warmUp());
    assertEquals(
        Duration.ZERO,
        OutlierSettings.withoutWarmUp(
                Duration.ofMillis(100),
                Duration.ofSeconds(1),
                3,
                Duration.ofMillis(5),
                2,
                Duration.ofSeconds(10),
                Duration.ofMinutes(5),
                50)
            .warmUp(),
        "withoutWarmUp: off");
  }
}
