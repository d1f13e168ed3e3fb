package revproxy.tls;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/**
 * A directory made by {@code scripts/make-certs.sh}: {@code truststore.p12} (the CA whose
 * certificates are trusted), {@code node.p12} (this side's key and certificate chain; optional for
 * a client) and {@code password} (of both stores). Every TLS hop of the system builds its SSL
 * engines here, so every hop speaks TLS 1.3 or 1.2 and nothing older.
 */
public final class TlsDir {

  /** The protocol versions every engine made here enables, newest first. */
  static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

  private final Path dir;
  private final KeyManager[] keyManagers;
  private final TrustManager[] trustManagers;
  private final SSLContext context;

  private TlsDir(Path dir, KeyManager[] keyManagers, TrustManager[] trustManagers)
      throws GeneralSecurityException {
    this.dir = dir;
    this.keyManagers = keyManagers;
    this.trustManagers = trustManagers;
    this.context = SSLContext.getInstance("TLS");
    context.init(keyManagers, trustManagers, null);
  }

  /**
   * Reads the directory. Without {@code node.p12} this side has no certificate to show: enough for
   * a client of a proxy that does not require client certificates.
   *
   * @throws IllegalArgumentException naming the file that is missing or unreadable
   */
  public static TlsDir load(Path dir) {
    char[] password = password(dir);
    try {
      TrustManagerFactory trust =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      trust.init(keyStore(dir, "truststore.p12", password));
      KeyManager[] keys = null;
      if (Files.exists(dir.resolve("node.p12"))) {
        KeyManagerFactory factory =
            KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        factory.init(keyStore(dir, "node.p12", password), password);
        keys = factory.getKeyManagers();
      }
      return new TlsDir(dir, keys, trust.getTrustManagers());
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("TLS directory " + dir + ": " + e.getMessage(), e);
    }
  }

  /** This side's key, for a server or a cluster node, which must show a certificate. */
  public TlsDir requireKey() {
    if (keyManagers == null) {
      throw new IllegalArgumentException(
          "TLS directory " + dir + " has no node.p12 (make one with scripts/make-certs.sh)");
    }
    return this;
  }

  /**
   * An engine for one accepted connection, fit for Akka's TLS stage ({@link TlsStageEngine}). With
   * {@code requireClientAuth} the handshake fails unless the client shows a certificate of this
   * directory's CA.
   */
  public SSLEngine serverEngine(boolean requireClientAuth) {
    SSLEngine engine = context.createSSLEngine();
    engine.setUseClientMode(false);
    engine.setEnabledProtocols(PROTOCOLS);
    engine.setNeedClientAuth(requireClientAuth);
    return new TlsStageEngine(engine);
  }

  /**
   * An engine for one connection to {@code host}, fit for Akka's TLS stage ({@link
   * TlsStageEngine}): the server's certificate must come from this directory's CA and name {@code
   * host} (as an IP address or DNS name), as HTTPS checks it.
   */
  public SSLEngine clientEngine(String host, int port) {
    SSLEngine engine = context.createSSLEngine(host, port);
    engine.setUseClientMode(true);
    SSLParameters parameters = engine.getSSLParameters();
    parameters.setProtocols(PROTOCOLS);
    parameters.setEndpointIdentificationAlgorithm("HTTPS");
    engine.setSSLParameters(parameters);
    return new TlsStageEngine(engine);
  }

  KeyManager[] keyManagers() {
    return keyManagers;
  }

  TrustManager[] trustManagers() {
    return trustManagers;
  }

  private static char[] password(Path dir) {
    Path file = dir.resolve("password");
    try {
      return Files.readString(file, StandardCharsets.US_ASCII).strip().toCharArray();
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "TLS directory "
              + dir
              + ": cannot read "
              + file
              + " (make the directory with"
              + " scripts/make-certs.sh)",
          e);
    }
  }

  private static KeyStore keyStore(Path dir, String name, char[] password)
      throws GeneralSecurityException {
    Path file = dir.resolve(name);
    try (InputStream in = Files.newInputStream(file)) {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(in, password);
      return store;
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "TLS directory " + dir + ": cannot read " + name + " (" + e.getMessage() + ")", e);
    }
  }
}
