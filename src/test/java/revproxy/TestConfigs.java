package revproxy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import revproxy.proxy.ProxySettings;

/** Configurations for tests: the shipped defaults with ports and providers made test-friendly. */
public final class TestConfigs {

  private TestConfigs() {}

  /** A single, non-clustered actor system (the receptionist and routers work locally). */
  public static Config local() {
    return ConfigFactory.parseString(
            "akka.actor.provider = local\n" + "akka.loglevel = WARNING\n")
        .withFallback(ConfigFactory.load());
  }

  /** A cluster node on a free port that joins nobody until told to. */
  public static Config clusterNode(String role) {
    return ConfigFactory.parseString(
            "akka.remote.artery.canonical.port = 0\n"
                + "akka.cluster.seed-nodes = []\n"
                + "akka.cluster.roles = ["
                + role
                + "]\n"
                + "akka.cluster.jmx.multi-mbeans-in-same-jvm = on\n"
                + "akka.loglevel = WARNING\n")
        .withFallback(ConfigFactory.load());
  }

  /** Proxy settings on a free TCP port with the given request timeout. */
  public static ProxySettings proxySettings(Duration requestTimeout) {
    return new ProxySettings("127.0.0.1", 0, requestTimeout, 64, 65536, 100);
  }
}
