package revproxy.tls;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;

/**
 * An SSL engine as Akka's TLS stage should see it: the engine it wraps, with two changes.
 *
 * <p>Akka 2.6's stage keeps back the bytes it decrypted when the engine asks to wrap right after
 * decrypting them, before the handshake is finished, and delivers them only with the next bytes
 * from the peer (akka/akka#31419, fixed in Akka 2.10 only). A TLS 1.3 client whose certificate and
 * first request arrive together then waits for its reply forever, about one connection in three on
 * loopback. Such an unwrap is reported as {@code FINISHED} here, which makes the stage deliver the
 * bytes at once; the engine's own state is unchanged, so the wrap it asked for still happens.
 *
 * <p>And the first failure of the handshake may be handed to {@code onHandshakeFailure}: Artery has
 * no hook of its own, a failed handshake only closes the connection. Failures after the handshake
 * (a peer that crashed) are not handed on.
 */
final class TlsStageEngine extends SSLEngine {

  private final SSLEngine engine;
  private final Consumer<SSLException> onHandshakeFailure;
  private boolean handshakeDone;
  private boolean reported;

  TlsStageEngine(SSLEngine engine) {
    this(engine, failure -> {});
  }

  TlsStageEngine(SSLEngine engine, Consumer<SSLException> onHandshakeFailure) {
    super(engine.getPeerHost(), engine.getPeerPort());
    this.engine = engine;
    this.onHandshakeFailure = onHandshakeFailure;
  }

  private SSLEngineResult observed(SSLEngineResult result) {
    if (result.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.FINISHED) {
      handshakeDone = true;
    }
    return result;
  }

  /** An unwrap whose bytes the stage would keep back is reported as finishing the handshake. */
  private SSLEngineResult unwrapped(SSLEngineResult result) {
    if (!handshakeDone
        && result.getStatus() == SSLEngineResult.Status.OK
        && result.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_WRAP
        && result.bytesProduced() > 0) {
      handshakeDone = true;
      return new SSLEngineResult(
          result.getStatus(),
          SSLEngineResult.HandshakeStatus.FINISHED,
          result.bytesConsumed(),
          result.bytesProduced());
    }
    return observed(result);
  }

  private SSLException failed(SSLException e) {
    if (!handshakeDone && !reported) {
      reported = true;
      onHandshakeFailure.accept(e);
    }
    return e;
  }

  @Override
  public SSLEngineResult wrap(ByteBuffer[] srcs, int offset, int length, ByteBuffer dst)
      throws SSLException {
    try {
      return observed(engine.wrap(srcs, offset, length, dst));
    } catch (SSLException e) {
      throw failed(e);
    }
  }

  @Override
  public SSLEngineResult unwrap(ByteBuffer src, ByteBuffer[] dsts, int offset, int length)
      throws SSLException {
    try {
      return unwrapped(engine.unwrap(src, dsts, offset, length));
    } catch (SSLException e) {
      throw failed(e);
    }
  }

  @Override
  public void closeInbound() throws SSLException {
    try {
      engine.closeInbound();
    } catch (SSLException e) {
      throw failed(e);
    }
  }

  @Override
  public void beginHandshake() throws SSLException {
    try {
      engine.beginHandshake();
    } catch (SSLException e) {
      throw failed(e);
    }
  }

  // Everything else is the wrapped engine's.

  @Override
  public Runnable getDelegatedTask() {
    return engine.getDelegatedTask();
  }

  @Override
  public boolean isInboundDone() {
    return engine.isInboundDone();
  }

  @Override
  public void closeOutbound() {
    engine.closeOutbound();
  }

  @Override
  public boolean isOutboundDone() {
    return engine.isOutboundDone();
  }

  @Override
  public String[] getSupportedCipherSuites() {
    return engine.getSupportedCipherSuites();
  }

  @Override
  public String[] getEnabledCipherSuites() {
    return engine.getEnabledCipherSuites();
  }

  @Override
  public void setEnabledCipherSuites(String[] suites) {
    engine.setEnabledCipherSuites(suites);
  }

  @Override
  public String[] getSupportedProtocols() {
    return engine.getSupportedProtocols();
  }

  @Override
  public String[] getEnabledProtocols() {
    return engine.getEnabledProtocols();
  }

  @Override
  public void setEnabledProtocols(String[] protocols) {
    engine.setEnabledProtocols(protocols);
  }

  @Override
  public SSLSession getSession() {
    return engine.getSession();
  }

  @Override
  public SSLSession getHandshakeSession() {
    return engine.getHandshakeSession();
  }

  @Override
  public SSLEngineResult.HandshakeStatus getHandshakeStatus() {
    return engine.getHandshakeStatus();
  }

  @Override
  public void setUseClientMode(boolean mode) {
    engine.setUseClientMode(mode);
  }

  @Override
  public boolean getUseClientMode() {
    return engine.getUseClientMode();
  }

  @Override
  public void setNeedClientAuth(boolean need) {
    engine.setNeedClientAuth(need);
  }

  @Override
  public boolean getNeedClientAuth() {
    return engine.getNeedClientAuth();
  }

  @Override
  public void setWantClientAuth(boolean want) {
    engine.setWantClientAuth(want);
  }

  @Override
  public boolean getWantClientAuth() {
    return engine.getWantClientAuth();
  }

  @Override
  public void setEnableSessionCreation(boolean flag) {
    engine.setEnableSessionCreation(flag);
  }

  @Override
  public boolean getEnableSessionCreation() {
    return engine.getEnableSessionCreation();
  }

  @Override
  public SSLParameters getSSLParameters() {
    return engine.getSSLParameters();
  }

  @Override
  public void setSSLParameters(SSLParameters parameters) {
    engine.setSSLParameters(parameters);
  }

  @Override
  public String getApplicationProtocol() {
    return engine.getApplicationProtocol();
  }

  @Override
  public String getHandshakeApplicationProtocol() {
    return engine.getHandshakeApplicationProtocol();
  }

  @Override
  public void setHandshakeApplicationProtocolSelector(
      BiFunction<SSLEngine, List<String>, String> selector) {
    engine.setHandshakeApplicationProtocolSelector(selector);
  }

  @Override
  public BiFunction<SSLEngine, List<String>, String> getHandshakeApplicationProtocolSelector() {
    return engine.getHandshakeApplicationProtocolSelector();
  }
}
