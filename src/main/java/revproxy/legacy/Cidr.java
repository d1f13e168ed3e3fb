package revproxy.legacy;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.regex.Pattern;

/**
 * An address block in CIDR notation ({@code 127.0.0.1/32}, {@code 10.0.0.0/8}, {@code ::1/128}), or
 * a single address (a whole-length prefix). IPv4 blocks never match IPv6 addresses and back, except
 * that an IPv4-mapped IPv6 address ({@code ::ffff:127.0.0.1}) is matched as the IPv4 address it
 * carries.
 */
public record Cidr(byte[] network, int prefixLength) {

  // Only literal addresses: a host name here would be resolved through DNS at startup.
  private static final Pattern LITERAL = Pattern.compile("[0-9.]+|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");

  /** Parses {@code address[/prefix]}; a bad value is an {@link IllegalArgumentException}. */
  public static Cidr parse(String text) {
    String trimmed = text.trim();
    int slash = trimmed.indexOf('/');
    String address = slash < 0 ? trimmed : trimmed.substring(0, slash);
    if (!LITERAL.matcher(address).matches()) {
      throw new IllegalArgumentException(
          "not an address block: \"" + text + "\" (expected e.g. 10.0.0.0/8 or ::1/128)");
    }
    byte[] bytes;
    try {
      bytes = InetAddress.getByName(address).getAddress();
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("not an address block: \"" + text + "\"");
    }
    int bits = bytes.length * 8;
    int prefix = bits;
    if (slash >= 0) {
      String length = trimmed.substring(slash + 1);
      if (!length.matches("[0-9]{1,3}") || Integer.parseInt(length) > bits) {
        throw new IllegalArgumentException(
            "bad prefix length in \"" + text + "\": expected 0-" + bits);
      }
      prefix = Integer.parseInt(length);
    }
    return new Cidr(mask(bytes, prefix), prefix);
  }

  /** Whether {@code address} lies in this block. */
  public boolean contains(InetAddress address) {
    byte[] candidate = unmapped(address.getAddress());
    if (candidate.length != network.length) {
      return false;
    }
    return Arrays.equals(mask(candidate, prefixLength), network);
  }

  private static byte[] mask(byte[] address, int prefix) {
    byte[] masked = address.clone();
    for (int i = 0; i < masked.length; i++) {
      int keep = Math.max(0, Math.min(8, prefix - i * 8));
      masked[i] &= (byte) (0xFF << (8 - keep));
    }
    return masked;
  }

  /** The IPv4 address inside an IPv4-mapped IPv6 address, else the address as it is. */
  private static byte[] unmapped(byte[] address) {
    if (address.length != 16) {
      return address;
    }
    for (int i = 0; i < 10; i++) {
      if (address[i] != 0) {
        return address;
      }
    }
    if (address[10] != (byte) 0xFF || address[11] != (byte) 0xFF) {
      return address;
    }
    return Arrays.copyOfRange(address, 12, 16);
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof Cidr cidr
        && prefixLength == cidr.prefixLength
        && Arrays.equals(network, cidr.network);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(network) + prefixLength;
  }

  @Override
  public String toString() {
    try {
      return InetAddress.getByAddress(network).getHostAddress() + "/" + prefixLength;
    } catch (UnknownHostException impossible) {
      throw new IllegalStateException(impossible);
    }
  }
}
