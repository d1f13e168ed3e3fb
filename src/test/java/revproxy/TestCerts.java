package revproxy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS directories for tests, made by the real {@code scripts/make-certs.sh} under target/ once per
 * test JVM (keytool takes a few seconds): no key is ever committed.
 */
public final class TestCerts {

  private static Path cluster;
  private static Path otherCa;

  private TestCerts() {}

  /** A CA and its node files: "the cluster's". */
  public static synchronized Path cluster() {
    if (cluster == null) {
      cluster = makeCerts("cluster");
    }
    return cluster;
  }

  /** A second CA that neither trusts nor is trusted by {@link #cluster()}. */
  public static synchronized Path otherCa() {
    if (otherCa == null) {
      otherCa = makeCerts("other-ca");
    }
    return otherCa;
  }

  /** A copy of {@code dir} without node.p12: trusts the CA, has no certificate to show. */
  public static Path withoutKey(Path dir) {
    try {
      Path copy = Files.createTempDirectory(dir.getParent(), "no-key-");
      Files.copy(dir.resolve("password"), copy.resolve("password"));
      Files.copy(dir.resolve("truststore.p12"), copy.resolve("truststore.p12"));
      return copy;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * A directory that trusts {@code trustFrom}'s CA but shows {@code keyFrom}'s certificate: a
   * client that knows the proxy but holds a certificate of another CA.
   */
  public static Path trustingWithKeyOf(Path trustFrom, Path keyFrom) {
    try {
      Path mixed = Files.createTempDirectory(keyFrom.getParent(), "mixed-");
      Files.copy(keyFrom.resolve("password"), mixed.resolve("password"));
      Files.copy(keyFrom.resolve("node.p12"), mixed.resolve("node.p12"));
      KeyStore trust = load(trustFrom.resolve("truststore.p12"), password(trustFrom));
      try (OutputStream out = Files.newOutputStream(mixed.resolve("truststore.p12"))) {
        trust.store(out, password(keyFrom));
      }
      return mixed;
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** An SSLContext of {@code dir}'s files, for raw TLS sockets in tests. */
  public static SSLContext sslContext(Path dir) {
    try {
      char[] password = password(dir);
      TrustManagerFactory trust =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      trust.init(load(dir.resolve("truststore.p12"), password));
      KeyManagerFactory keys =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      keys.init(load(dir.resolve("node.p12"), password), password);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keys.getKeyManagers(), trust.getTrustManagers(), null);
      return context;
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Path makeCerts(String name) {
    try {
      Path parent = Files.createDirectories(Path.of("target", "test-certs"));
      Path dir = Files.createTempDirectory(parent, name + "-");
      Files.delete(dir); // make-certs.sh makes it, and refuses a directory that holds a CA
      Process process =
          new ProcessBuilder("bash", "scripts/make-certs.sh", dir.toString())
              .redirectErrorStream(true)
              .start();
      String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!process.waitFor(120, TimeUnit.SECONDS) || process.exitValue() != 0) {
        throw new IllegalStateException("scripts/make-certs.sh failed: " + output);
      }
      return dir;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static char[] password(Path dir) throws IOException {
    return Files.readString(dir.resolve("password")).strip().toCharArray();
  }

  private static KeyStore load(Path file, char[] password)
      throws IOException, GeneralSecurityException {
    try (InputStream in = Files.newInputStream(file)) {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(in, password);
      return store;
    }
  }
}
