package revproxy.bench;

import java.nio.ByteBuffer;
import revproxy.protocol.JsonObjectScanner;

/**
 * Cuts one connection's reply bytes into back-to-back JSON objects, without copying or decoding
 * them: the generator reads replies at the rate the proxy writes them and must stay cheap.
 *
 * <p>The proxy's own {@link JsonObjectScanner} finds the objects, so the rules are exactly those of
 * {@code PacketFraming}. Bytes arrive in {@link #readBuffer()}; {@link #scan(Handler)} reports
 * every complete object and keeps an unfinished one for the next read, so an object may span any
 * number of reads and a read may hold any number of objects.
 */
final class ReplyScanner {

  /** Receives what one scan found, in stream order. */
  interface Handler {
    /** One complete object, {@code bytes[start, end)}; valid only during the call. */
    void onObject(byte[] bytes, int start, int end);

    /** A run of non-whitespace bytes outside any object. */
    void onGarbage();
  }

  private final int maxObjectBytes;
  private final JsonObjectScanner scanner;
  private byte[] bytes;
  private ByteBuffer view;

  /** Bytes held: [0, length), all scanned; only the unfinished object stays between scans. */
  private int length;

  ReplyScanner(int initialBytes, int maxObjectBytes) {
    this.maxObjectBytes = maxObjectBytes;
    this.scanner = new JsonObjectScanner(maxObjectBytes);
    this.bytes = new byte[Math.max(64, initialBytes)];
    this.view = ByteBuffer.wrap(bytes);
  }

  /** The buffer to read into next: it holds the unfinished object, if any, and free space. */
  ByteBuffer readBuffer() {
    if (length == bytes.length) {
      grow();
    }
    view.limit(bytes.length).position(length);
    return view;
  }

  /**
   * Scans the bytes read since the last scan. Returns false if an object is larger than the limit
   * (the connection can no longer be trusted to stay in step).
   */
  boolean scan(Handler handler) {
    int from = length;
    length = view.position();
    view.limit(length).position(from);
    JsonObjectScanner.Event event;
    while ((event = scanner.next(view)) != JsonObjectScanner.Event.NEED_INPUT) {
      switch (event) {
        case OBJECT -> {
          int end = view.position();
          handler.onObject(bytes, end - scanner.objectLength(), end);
        }
        case GARBAGE -> handler.onGarbage();
        case TOO_LARGE -> {
          return false;
        }
      }
    }
    if (scanner.endOfChunk()) {
      handler.onGarbage();
    }
    compact();
    return true;
  }

  /** Forgets everything held, for a new connection. */
  void reset() {
    length = 0;
    scanner.reset();
    view.clear();
  }

  /** Moves the unfinished object to the front, so the buffer only ever holds one. */
  private void compact() {
    int keep = scanner.inObject() ? scanner.objectLength() : 0;
    if (keep < length) {
      System.arraycopy(bytes, length - keep, bytes, 0, keep);
      length = keep;
    }
    view.position(length);
  }

  private void grow() {
    // Up to one byte past the limit: the byte that makes an object too large must fit.
    byte[] larger =
        new byte[Math.max(bytes.length + 1, Math.min(bytes.length * 2, maxObjectBytes + 1))];
    System.arraycopy(bytes, 0, larger, 0, length);
    bytes = larger;
    view = ByteBuffer.wrap(bytes);
  }
}
