package revproxy.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import revproxy.cluster.NodeConfig;

class ProxySettingsTest {

  private static ProxySettings withTimeouts(String attempt, String request) {
    return ProxySettings.fromConfig(
        ConfigFactory.parseString(
                "revproxy.proxy { attempt-timeout = "
                    + attempt
                    + ", request-timeout = "
                    + request
                    + " }")
            .withFallback(NodeConfig.defaults()));
  }

  @Test
  void theShippedTimeoutsAreInOrderAndTheAskOutlastsTheRequest() {
    ProxySettings settings = ProxySettings.fromConfig(NodeConfig.defaults());
    assertEquals(Duration.ofSeconds(2), settings.attemptTimeout());
    assertEquals(Duration.ofSeconds(5), settings.requestTimeout());
    assertEquals(Duration.ofSeconds(6), settings.askTimeout());
  }

  @Test
  void anAttemptLongerThanTheRequestIsRefusedAtStartupNamingBothKeys() {
    IllegalArgumentException error =
        assertThrows(IllegalArgumentException.class, () -> withTimeouts("3s", "2s"));
    assertEquals(
        "revproxy.proxy.attempt-timeout (3000 ms) must not exceed revproxy.proxy.request-timeout"
            + " (2000 ms)",
        error.getMessage());
    assertEquals(Duration.ofSeconds(2), withTimeouts("2s", "2s").attemptTimeout());
  }

  @Test
  void aZeroAttemptTimeoutIsRefused() {
    assertEquals(
        "revproxy.proxy.attempt-timeout must be positive",
        assertThrows(IllegalArgumentException.class, () -> withTimeouts("0s", "2s")).getMessage());
  }

  private static ProxySettings withNoWorkerGrace(String grace) {
    return ProxySettings.fromConfig(
        ConfigFactory.parseString("revproxy.proxy { no-worker-grace = " + grace + " }")
            .withFallback(NodeConfig.defaults()));
  }

  @Test
  void theNoWorkerGraceIsTwoSecondsAndMayBeZeroOrUpToTheRequestTimeout() {
    assertEquals(
        Duration.ofSeconds(2), ProxySettings.fromConfig(NodeConfig.defaults()).noWorkerGrace());
    assertEquals(Duration.ZERO, withNoWorkerGrace("0s").noWorkerGrace());
    assertEquals(Duration.ofSeconds(5), withNoWorkerGrace("5s").noWorkerGrace());
  }

  @Test
  void aNoWorkerGraceLongerThanTheRequestTimeoutOrNegativeIsRefused() {
    assertEquals(
        "revproxy.proxy.no-worker-grace (6000 ms) must be between 0 and"
            + " revproxy.proxy.request-timeout (5000 ms)",
        assertThrows(IllegalArgumentException.class, () -> withNoWorkerGrace("6s")).getMessage());
    assertEquals(
        "revproxy.proxy.no-worker-grace (-1000 ms) must be between 0 and"
            + " revproxy.proxy.request-timeout (5000 ms)",
        assertThrows(IllegalArgumentException.class, () -> withNoWorkerGrace("-1s")).getMessage());
  }
}
