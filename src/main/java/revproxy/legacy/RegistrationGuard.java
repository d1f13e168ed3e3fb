package revproxy.legacy;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Set;
import revproxy.protocol.ErrorCode;
import revproxy.protocol.Packet;

/**
 * The checks every registration passes before the registry looks at it: where it comes from ({@code
 * allow-from}), whether it carries the shared token when one is set, and where it points (never at
 * one of the proxy's own ports). Plain and stateless; the registry adds the checks that need its
 * state (conflicts, bounds).
 */
final class RegistrationGuard {

  private final RegistrationSettings settings;
  private final Set<Integer> ownPorts;
  private final byte[] tokenDigest;

  /**
   * {@code ownPorts}: the proxy's cluster and management ports (the client port comes per call).
   */
  RegistrationGuard(RegistrationSettings settings, Set<Integer> ownPorts) {
    this.settings = settings;
    this.ownPorts = Set.copyOf(ownPorts);
    this.tokenDigest = settings.token() == null ? null : sha256(settings.token());
  }

  /**
   * Null when {@code registration}, received from {@code source} on the proxy's client port {@code
   * clientPort}, may go on to the registry; else why it is refused.
   */
  LegacyRegistry.Refused check(
      Packet.Registration registration, InetAddress source, int clientPort) {
    if (settings.allowFrom().stream().noneMatch(block -> block.contains(source))) {
      return refused(
          "registrations are not accepted from "
              + source.getHostAddress()
              + " (revproxy.legacy.registration.allow-from)");
    }
    if (tokenDigest != null) {
      if (registration.token() == null) {
        return refused("this proxy requires a registration token (\"token\")");
      }
      // Digests first: equal lengths, so the comparison takes the same time whatever is sent.
      if (!MessageDigest.isEqual(tokenDigest, sha256(registration.token()))) {
        return refused("wrong registration token");
      }
    }
    int port = registration.listenPort();
    if ((port == clientPort || ownPorts.contains(port)) && isThisHost(source)) {
      return refused("port " + port + " is one of the proxy's own ports");
    }
    return null;
  }

  private static LegacyRegistry.Refused refused(String message) {
    return new LegacyRegistry.Refused(ErrorCode.REGISTRATION_REFUSED, message);
  }

  /** Whether the proxy would connect back to itself: the source is an address of this host. */
  private static boolean isThisHost(InetAddress source) {
    if (source.isLoopbackAddress() || source.isAnyLocalAddress()) {
      return true;
    }
    try {
      return NetworkInterface.getByInetAddress(source) != null;
    } catch (SocketException unknown) {
      return false;
    }
  }

  private static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }
}
