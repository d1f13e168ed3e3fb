package revproxy.protocol;

import akka.util.ByteString;
import java.nio.charset.StandardCharsets;

/**
 * ns per decoded request: PacketCodec.decodeRequest (the plain reader, Jackson when it cannot)
 * against Jackson alone, on the request the load generators send. Run from the repository:
 *
 * <pre>
 * javac -cp target/akka-reverse-proxy.jar -d /tmp/decode-cost bench/codec/DecodeCost.java
 * java -cp target/akka-reverse-proxy.jar:/tmp/decode-cost revproxy.protocol.DecodeCost
 * </pre>
 */
public class DecodeCost {
  public static void main(String[] args) {
    byte[] json =
        "{\"type\": \"0\", \"srcid\": \"client-12\", \"privPoliId\": \"111\", \"payload\": \"0123456789abcdef\"}"
            .getBytes(StandardCharsets.UTF_8);
    ByteString bytes = ByteString.fromArray(json);
    long n = 5_000_000L;
    long sink = 0;
    for (int round = 0; round < 8; round++) {
      long start = System.nanoTime();
      for (long i = 0; i < n; i++) {
        sink += PacketCodec.decodeRequest(bytes) instanceof Decoded.Ok ? 1 : 0;
      }
      long plain = System.nanoTime() - start;
      start = System.nanoTime();
      for (long i = 0; i < n; i++) {
        sink += PacketCodec.decodeWithJackson(bytes.toArray(), true) instanceof Decoded.Ok ? 1 : 0;
      }
      long jackson = System.nanoTime() - start;
      start = System.nanoTime();
      for (long i = 0; i < n; i++) {
        sink += PlainObjectReader.read(bytes.toArray(), new PacketFields()) ? 1 : 0;
      }
      long reader = System.nanoTime() - start;
      System.out.printf(
          "round %d: decodeRequest %.0f ns, Jackson alone %.0f ns, the plain reader alone %.0f ns"
              + " per request%n",
          round, (double) plain / n, (double) jackson / n, (double) reader / n);
    }
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    long id = Thread.currentThread().getId();
    long before = threads.getThreadAllocatedBytes(id);
    for (long i = 0; i < n; i++) {
      sink += PacketCodec.decodeRequest(bytes) instanceof Decoded.Ok ? 1 : 0;
    }
    long plainBytes = threads.getThreadAllocatedBytes(id) - before;
    before = threads.getThreadAllocatedBytes(id);
    for (long i = 0; i < n; i++) {
      sink += PacketCodec.decodeWithJackson(bytes.toArray(), true) instanceof Decoded.Ok ? 1 : 0;
    }
    long jacksonBytes = threads.getThreadAllocatedBytes(id) - before;
    System.out.printf(
        "allocated: decodeRequest %d bytes, Jackson alone %d bytes per request (%d decoded)%n",
        plainBytes / n, jacksonBytes / n, sink);
  }
}
