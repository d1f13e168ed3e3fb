package revproxy.protocol;

import akka.util.ByteString;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import java.io.IOException;

/**
 * Turns one framed JSON object into a {@link Packet} and back.
 *
 * <p>Decoding never throws: anything wrong becomes a {@link Decoded.Refused} naming the problem,
 * with the sender's {@code srcid} as {@code destid} when it could be read; a well-formed type "3"
 * packet is a {@link Decoded.Ok} like any other. Encoding writes exactly what Python's {@code
 * json.dumps} writes ({@code ", "} and {@code ": "} separators, non-ASCII as {@code \\uXXXX}), so
 * the original tutorial's client parses our replies unchanged.
 */
public final class PacketCodec {

  private static final int MAX_ERROR_DETAIL = 160;

  private static final JsonFactory JSON =
      // Duplicate keys are refused by PacketFields itself: Jackson's STRICT_DUPLICATE_DETECTION
      // allocates a hash set per object, the largest allocation of a request on the proxy.
      JsonFactory.builder()
          // Never echo the client's bytes back inside error messages.
          .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
          .build();

  private PacketCodec() {}

  /**
   * Decodes a frame received by the proxy: type "0" requests and type "1" registrations are
   * accepted; anything else, and every framing or parsing problem, is refused.
   */
  public static Decoded decodeRequest(Frame frame) {
    return frame instanceof Frame.Json json ? decodeRequest(json.bytes()) : frameError(frame);
  }

  /** Decodes one JSON object that must be a type "0" request or a type "1" registration. */
  public static Decoded decodeRequest(ByteString bytes) {
    return decode(bytes, true);
  }

  /** Decodes a frame of any packet type (a client reading replies). */
  public static Decoded decode(Frame frame) {
    return frame instanceof Frame.Json json ? decode(json.bytes()) : frameError(frame);
  }

  /** Decodes the bytes of one JSON object of any packet type (surrounding whitespace allowed). */
  public static Decoded decode(ByteString bytes) {
    return decode(bytes, false);
  }

  private static Decoded.Refused frameError(Frame frame) {
    if (frame instanceof Frame.Garbage garbage) {
      return new Decoded.Refused(
          null, ErrorCode.NOT_JSON, "not a JSON object: " + garbage.reason());
    } else if (frame instanceof Frame.Incomplete incomplete) {
      return new Decoded.Refused(
          null,
          ErrorCode.PACKET_TIMEOUT,
          "packet not completed within "
              + incomplete.timeout().toMillis()
              + " ms; closing the connection");
    }
    int limit = ((Frame.TooLarge) frame).limit();
    return new Decoded.Refused(
        null,
        ErrorCode.PACKET_TOO_LARGE,
        "packet larger than " + limit + " bytes; closing the connection");
  }

  private static Decoded decode(ByteString bytes, boolean requestsOnly) {
    byte[] json = bytes.toArray();
    PacketFields plain = new PacketFields();
    if (PlainObjectReader.read(json, plain)) {
      return plain.toDecoded(requestsOnly);
    }
    return decodeWithJackson(json, requestsOnly);
  }

  /**
   * Decodes with Jackson alone: every packet {@link PlainObjectReader} cannot read, and in the
   * tests the reference it must agree with.
   */
  static Decoded decodeWithJackson(byte[] json, boolean requestsOnly) {
    PacketFields fields = new PacketFields();
    try (JsonParser parser = JSON.createParser(json)) {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        return new Decoded.Refused(
            null, ErrorCode.MALFORMED_JSON, "a packet must be a JSON object");
      }
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        String name = parser.currentName();
        fields.firstTime(name, parser);
        parser.nextToken();
        fields.read(name, parser);
      }
      if (parser.nextToken() != null) {
        return fields.refused(ErrorCode.MALFORMED_JSON, "unexpected data after the JSON object");
      }
      if (!Utf8.isValid(json)) {
        return fields.refused(ErrorCode.MALFORMED_JSON, "malformed JSON: invalid UTF-8");
      }
    } catch (JsonProcessingException e) {
      return fields.refused(ErrorCode.MALFORMED_JSON, "malformed JSON: " + detail(e));
    } catch (IOException e) {
      return fields.refused(ErrorCode.MALFORMED_JSON, "unreadable JSON: " + detail(e));
    }
    return fields.toDecoded(requestsOnly);
  }

  /**
   * Encodes a packet as one JSON object in the original's byte format, with no trailing newline.
   */
  public static ByteString encode(Packet packet) {
    Ascii out;
    if (packet instanceof Packet.Reply reply) {
      out = new Ascii(96 + length(reply.workerId()) + length(reply.destId()) + 40);
      out.append("{\"type\": \"2\", \"srcid\": ");
      out.appendString(reply.workerId());
      out.append(", \"destid\": ");
      out.appendString(reply.destId());
      out.append(", \"payloadsize\": ").append(Integer.toString(reply.payloadHash().length()));
      out.append(", \"payload\": ");
      out.appendString(reply.payloadHash());
    } else if (packet instanceof Packet.Registration registration) {
      out = new Ascii(128);
      out.append("{\"type\": \"1\", \"id\": ");
      out.appendString(registration.serverId());
      out.append(", \"privPolyId\": ");
      out.appendString(registration.policyId());
      out.append(", \"listenport\": ");
      out.appendString(Integer.toString(registration.listenPort()));
      if (registration.connections() > 1) {
        out.append(", \"connections\": ").append(Integer.toString(registration.connections()));
      }
      if (registration.token() != null) {
        out.append(", \"token\": ");
        out.appendString(registration.token());
      }
    } else if (packet instanceof Packet.Error error) {
      out = new Ascii(64 + length(error.destId()) + length(error.message()));
      out.append("{\"type\": \"3\", \"destid\": ");
      out.appendString(error.destId());
      out.append(", \"code\": ");
      out.appendString(error.code());
      out.append(", \"message\": ");
      out.appendString(error.message());
    } else {
      Packet.Request request = (Packet.Request) packet;
      out =
          new Ascii(
              64
                  + length(request.srcid())
                  + length(request.policyId())
                  + length(request.payload()));
      out.append("{\"type\": \"0\", \"srcid\": ");
      out.appendString(request.srcid());
      out.append(", \"privPoliId\": ");
      out.appendString(request.policyId());
      out.append(", \"payload\": ");
      out.appendString(request.payload());
    }
    out.append("}");
    return out.toByteString();
  }

  private static int length(String value) {
    return value == null ? 4 : value.length() + 2;
  }

  /**
   * The bytes of an encoded packet, every one ASCII, written into one array that becomes the
   * ByteString without a copy (a reply is encoded per request).
   */
  private static final class Ascii {
    private byte[] bytes;
    private int length;

    Ascii(int capacity) {
      bytes = new byte[capacity];
    }

    /** Appends {@code ascii} as it is. */
    Ascii append(String ascii) {
      int n = ascii.length();
      ensure(n);
      for (int i = 0; i < n; i++) {
        bytes[length++] = (byte) ascii.charAt(i);
      }
      return this;
    }

    /** Appends a JSON string literal escaped as Python's json.dumps does, or null. */
    void appendString(String value) {
      if (value == null) {
        append("null");
        return;
      }
      ensure(value.length() + 2);
      bytes[length++] = '"';
      for (int i = 0; i < value.length(); i++) {
        char c = value.charAt(i);
        switch (c) {
          case '"' -> append("\\\"");
          case '\\' -> append("\\\\");
          case '\n' -> append("\\n");
          case '\r' -> append("\\r");
          case '\t' -> append("\\t");
          case '\b' -> append("\\b");
          case '\f' -> append("\\f");
          default -> {
            if (c < 0x20 || c > 0x7e) {
              append(String.format("\\u%04x", (int) c));
            } else {
              ensure(1);
              bytes[length++] = (byte) c;
            }
          }
        }
      }
      ensure(1);
      bytes[length++] = '"';
    }

    private void ensure(int more) {
      if (length + more > bytes.length) {
        bytes = java.util.Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + more));
      }
    }

    ByteString toByteString() {
      return ByteString.fromArrayUnsafe(bytes, 0, length);
    }
  }

  private static String detail(IOException e) {
    String message =
        e instanceof JsonProcessingException jpe ? jpe.getOriginalMessage() : e.getMessage();
    if (message == null) {
      return e.getClass().getSimpleName();
    }
    // Jackson names the start of an unfinished token with a location we do not want to echo.
    message = message.replaceAll("\\s*\\(start marker at .*", "").replaceAll("\\s+", " ").trim();
    return message.length() <= MAX_ERROR_DETAIL
        ? message
        : message.substring(0, MAX_ERROR_DETAIL) + "...";
  }
}
