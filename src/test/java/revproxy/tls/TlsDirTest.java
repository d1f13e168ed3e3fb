package revproxy.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import javax.net.ssl.SSLEngine;
import org.junit.jupiter.api.Test;
import revproxy.TestCerts;

/** The SSL engines every TLS hop gets from a make-certs.sh directory. */
class TlsDirTest {

  private static final String[] TLS_13_AND_12 = {"TLSv1.3", "TLSv1.2"};

  @Test
  void serverEnginesEnableOnlyTls13And12AndAskForACertificateOnlyWhenRequired() {
    TlsDir dir = TlsDir.load(TestCerts.cluster()).requireKey();
    SSLEngine open = dir.serverEngine(false);
    SSLEngine mutual = dir.serverEngine(true);
    assertArrayEquals(TLS_13_AND_12, open.getEnabledProtocols());
    assertArrayEquals(TLS_13_AND_12, mutual.getEnabledProtocols());
    assertFalse(open.getUseClientMode());
    assertFalse(open.getNeedClientAuth());
    assertTrue(mutual.getNeedClientAuth());
  }

  @Test
  void clientEnginesEnableOnlyTls13And12AndCheckTheNameDialedAsHttpsDoes() {
    SSLEngine client = TlsDir.load(TestCerts.cluster()).clientEngine("localhost", 2100);
    assertArrayEquals(TLS_13_AND_12, client.getEnabledProtocols());
    assertTrue(client.getUseClientMode());
    assertEquals("HTTPS", client.getSSLParameters().getEndpointIdentificationAlgorithm());
    assertEquals("localhost", client.getPeerHost());
  }

  @Test
  void aDirectoryWithoutNodeP12IsEnoughForAClientButNotForAServer() {
    Path trustOnly = TestCerts.withoutKey(TestCerts.cluster());
    TlsDir dir = TlsDir.load(trustOnly);
    IllegalArgumentException noKey = assertThrows(IllegalArgumentException.class, dir::requireKey);
    assertEquals(
        "TLS directory " + trustOnly + " has no node.p12 (make one with scripts/make-certs.sh)",
        noKey.getMessage());
  }

  @Test
  void aWrongPasswordNamesTheStoreItDoesNotOpen() throws Exception {
    Path dir = TestCerts.withoutKey(TestCerts.cluster());
    Files.writeString(dir.resolve("password"), "not-the-password\n");
    IllegalArgumentException wrong =
        assertThrows(IllegalArgumentException.class, () -> TlsDir.load(dir));
    assertEquals(
        "TLS directory " + dir + ": cannot read truststore.p12 (keystore password was incorrect)",
        wrong.getMessage());
  }
}
