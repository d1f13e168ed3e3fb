package revproxy.bench;

import java.nio.ByteBuffer;

/**
 * Cuts one connection's reply bytes into back-to-back JSON objects, without copying or decoding
 * them: the generator reads replies at the rate the proxy writes them and must stay cheap.
 *
 * <p>The same rules as the proxy's {@code PacketFraming}: braces count only outside strings,
 * escapes are tracked, whitespace between objects is skipped and anything else between objects is
 * reported as garbage. Bytes arrive in {@link #readBuffer()}; {@link #scan(Handler)} reports every
 * complete object and keeps an unfinished one for the next read, so an object may span any number
 * of reads and a read may hold any number of objects.
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
  private byte[] bytes;
  private ByteBuffer view;
  /** Bytes held: [0, length). */
  private int length;
  /** The next byte to look at; every byte is looked at once. */
  private int position;
  /** Where the unfinished object starts, or -1 between objects. */
  private int objectStart = -1;
  private int depth;
  private boolean inString;
  private boolean escaped;
  private boolean inGarbage;

  ReplyScanner(int initialBytes, int maxObjectBytes) {
    this.maxObjectBytes = maxObjectBytes;
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
    length = view.position();
    byte[] b = bytes;
    for (int i = position; i < length; i++) {
      byte c = b[i];
      if (depth == 0) {
        if (c == '{') {
          if (inGarbage) {
            inGarbage = false;
            handler.onGarbage();
          }
          depth = 1;
          objectStart = i;
        } else if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
          inGarbage = true;
        }
      } else if (inString) {
        if (escaped) {
          escaped = false;
        } else if (c == '\\') {
          escaped = true;
        } else if (c == '"') {
          inString = false;
        }
      } else if (c == '"') {
        inString = true;
      } else if (c == '{') {
        depth++;
      } else if (c == '}' && --depth == 0) {
        handler.onObject(b, objectStart, i + 1);
        objectStart = -1;
      }
    }
    position = length;
    if (inGarbage) {
      inGarbage = false;
      handler.onGarbage();
    }
    compact();
    return objectStart < 0 || length <= maxObjectBytes;
  }

  /** Forgets everything held, for a new connection. */
  void reset() {
    length = 0;
    position = 0;
    objectStart = -1;
    depth = 0;
    inString = false;
    escaped = false;
    inGarbage = false;
    view.clear();
  }

  /** Moves the unfinished object to the front, so the buffer only ever holds one. */
  private void compact() {
    int keep = objectStart >= 0 ? objectStart : length;
    if (keep > 0) {
      System.arraycopy(bytes, keep, bytes, 0, length - keep);
      length -= keep;
      position -= keep;
      if (objectStart >= 0) {
        objectStart = 0;
      }
    }
    view.position(length);
  }

  private void grow() {
    // Up to one byte past the limit, so that scan() sees an object over it.
    byte[] larger =
        new byte[Math.max(bytes.length + 1, Math.min(bytes.length * 2, maxObjectBytes + 1))];
    System.arraycopy(bytes, 0, larger, 0, length);
    bytes = larger;
    view = ByteBuffer.wrap(bytes);
  }
}
