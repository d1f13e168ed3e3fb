package revproxy.legacy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class CidrTest {

  private static boolean contains(String block, String address) throws Exception {
    return Cidr.parse(block).contains(InetAddress.getByName(address));
  }

  @Test
  void aSingleAddressBlockMatchesOnlyThatAddress() throws Exception {
    assertTrue(contains("127.0.0.1/32", "127.0.0.1"));
    assertFalse(contains("127.0.0.1/32", "127.0.0.2"));
    assertTrue(contains("10.1.2.3", "10.1.2.3"));
    assertFalse(contains("10.1.2.3", "10.1.2.4"));
  }

  @Test
  void prefixesMatchTheirWholeBlockAndNothingElse() throws Exception {
    assertTrue(contains("10.0.0.0/8", "10.255.1.2"));
    assertFalse(contains("10.0.0.0/8", "11.0.0.0"));
    assertTrue(contains("192.168.4.0/22", "192.168.7.255"));
    assertFalse(contains("192.168.4.0/22", "192.168.8.0"));
    assertTrue(contains("0.0.0.0/0", "203.0.113.9"));
    // Host bits in the written block are ignored, as routers do.
    assertTrue(contains("10.9.9.9/8", "10.0.0.1"));
  }

  @Test
  void ipv6BlocksMatchIpv6AndIpv4MappedAddressesMatchTheirIpv4Block() throws Exception {
    assertTrue(contains("::1/128", "::1"));
    assertFalse(contains("::1/128", "::2"));
    assertTrue(contains("fd00::/8", "fd12:3456::1"));
    assertFalse(contains("fd00::/8", "fe80::1"));
    assertFalse(contains("::1/128", "127.0.0.1"));
    assertFalse(contains("127.0.0.0/8", "::1"));
    assertTrue(contains("127.0.0.0/8", "::ffff:127.0.0.5"));
  }

  @Test
  void badBlocksAreRejectedWithAReadableMessage() {
    assertEquals(
        "not an address block: \"localhost\" (expected e.g. 10.0.0.0/8 or ::1/128)",
        assertThrows(IllegalArgumentException.class, () -> Cidr.parse("localhost")).getMessage());
    assertEquals(
        "bad prefix length in \"10.0.0.0/33\": expected 0-32",
        assertThrows(IllegalArgumentException.class, () -> Cidr.parse("10.0.0.0/33")).getMessage());
    assertEquals(
        "bad prefix length in \"::/129\": expected 0-128",
        assertThrows(IllegalArgumentException.class, () -> Cidr.parse("::/129")).getMessage());
    assertThrows(IllegalArgumentException.class, () -> Cidr.parse("10.0.0.0/-1"));
    assertThrows(IllegalArgumentException.class, () -> Cidr.parse("300.1.1.1/32"));
  }

  @Test
  void printsAsTheNormalisedBlock() {
    assertEquals("10.0.0.0/8", Cidr.parse("10.9.9.9/8").toString());
    assertEquals("0:0:0:0:0:0:0:1/128", Cidr.parse("::1/128").toString());
    assertEquals(Cidr.parse("10.0.0.0/8"), Cidr.parse("10.1.0.0/8"));
  }
}
