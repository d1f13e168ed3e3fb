package revproxy.protocol;

import akka.util.ByteString;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

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
      // Duplicate keys are refused by Fields itself: Jackson's STRICT_DUPLICATE_DETECTION
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
    Fields fields = new Fields();
    byte[] json = bytes.toArray();
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

  /** The fields of any packet type, read in whatever order they come. */
  private static final class Fields {
    private String type;
    private String srcid;
    private String destid;
    private String policyId;
    private String payload;
    private String payloadSize;
    private String serverId;
    private String registeredPolicyId;
    private String listenPort;
    private String connections;
    private String token;
    private String code;
    private String message;
    private String firstProblem;
    private ErrorCode firstProblemCode;

    /** One bit per known field read, to refuse a duplicate key. */
    private int seen;

    /** The unknown top-level keys read, made only when there is one. */
    private Set<String> unknownSeen;

    void read(String name, JsonParser parser) throws IOException {
      switch (name) {
        case "type" -> type = scalar(name, parser);
        case "srcid" -> srcid = scalar(name, parser);
        case "destid" -> destid = nullableScalar(name, parser);
        case "privPoliId" -> policyId = scalar(name, parser);
        case "payloadsize" -> payloadSize = scalar(name, parser);
        case "id" -> serverId = scalar(name, parser);
        case "privPolyId" -> registeredPolicyId = scalar(name, parser);
        case "listenport" -> listenPort = scalar(name, parser);
        case "connections" -> connections = scalar(name, parser);
        case "token" -> token = text(name, parser);
        case "payload" -> payload = text(name, parser);
        case "code" -> code = text(name, parser);
        case "message" -> message = text(name, parser);
        default -> skip(parser); // unknown fields are ignored, for forward compatibility
      }
    }

    private static final List<String> KNOWN =
        List.of(
            "type",
            "srcid",
            "destid",
            "privPoliId",
            "payloadsize",
            "id",
            "privPolyId",
            "listenport",
            "connections",
            "token",
            "payload",
            "code",
            "message");

    /**
     * Refuses a key read already in this object, as the parser stands on it (before its value,
     * where strict duplicate detection refuses it).
     */
    void firstTime(String name, JsonParser parser) throws JsonParseException {
      int known = KNOWN.indexOf(name);
      if (known >= 0) {
        if ((seen & (1 << known)) != 0) {
          throw duplicate(name, parser);
        }
        seen |= 1 << known;
        return;
      }
      if (unknownSeen == null) {
        unknownSeen = new HashSet<>();
      }
      if (!unknownSeen.add(name)) {
        throw duplicate(name, parser);
      }
    }

    /** Jackson's own words for a duplicate key, as STRICT_DUPLICATE_DETECTION says it. */
    private static JsonParseException duplicate(String name, JsonParser parser) {
      return new JsonParseException(parser, "Duplicate field '" + name + "'");
    }

    /**
     * Skips the value the parser is at (an object or array with everything in it), refusing a
     * duplicate key in any object inside, as strict duplicate detection would.
     */
    private static void skip(JsonParser parser) throws IOException {
      JsonToken token = parser.currentToken();
      if (token == JsonToken.START_OBJECT) {
        Set<String> names = new HashSet<>();
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
          String name = parser.currentName();
          if (!names.add(name)) {
            throw duplicate(name, parser);
          }
          parser.nextToken();
          skip(parser);
        }
      } else if (token == JsonToken.START_ARRAY) {
        for (JsonToken next = parser.nextToken();
            next != JsonToken.END_ARRAY && next != null;
            next = parser.nextToken()) {
          skip(parser);
        }
      }
    }

    /** A string, or an integer taken as its decimal text (the tutorial shows both). */
    private String scalar(String name, JsonParser parser) throws IOException {
      JsonToken token = parser.currentToken();
      if (token == JsonToken.VALUE_STRING || token == JsonToken.VALUE_NUMBER_INT) {
        return parser.getText();
      }
      return invalid(name, "a string or an integer", parser);
    }

    /** Like {@link #scalar}, and JSON null (an error packet without addressee) is null. */
    private String nullableScalar(String name, JsonParser parser) throws IOException {
      return parser.currentToken() == JsonToken.VALUE_NULL ? null : scalar(name, parser);
    }

    private String text(String name, JsonParser parser) throws IOException {
      if (parser.currentToken() == JsonToken.VALUE_STRING) {
        return parser.getText();
      }
      return invalid(name, "a string", parser);
    }

    private String invalid(String name, String expected, JsonParser parser) throws IOException {
      problem(
          ErrorCode.INVALID_FIELD,
          "field \""
              + name
              + "\" must be "
              + expected
              + ", not "
              + describe(parser.currentToken()));
      skip(parser);
      return null;
    }

    private void problem(ErrorCode code, String text) {
      if (firstProblem == null) {
        firstProblemCode = code;
        firstProblem = text;
      }
    }

    Decoded.Refused refused(ErrorCode code, String text) {
      return new Decoded.Refused(srcid, code, text);
    }

    Decoded toDecoded(boolean requestsOnly) {
      if (firstProblem != null) {
        return refused(firstProblemCode, firstProblem);
      }
      if (type == null) {
        return refused(ErrorCode.MISSING_FIELD, "missing field \"type\"");
      }
      if (requestsOnly && !type.equals("0") && !type.equals("1")) {
        return refused(
            ErrorCode.UNSUPPORTED_TYPE,
            "packet type \"" + abbreviate(type) + "\" is not a type \"0\" request");
      }
      return switch (type) {
        case "0" -> toRequest();
        case "1" -> toRegistration();
        case "2" -> toReply();
        case "3" -> toError();
        default ->
            refused(ErrorCode.UNSUPPORTED_TYPE, "unknown packet type \"" + abbreviate(type) + "\"");
      };
    }

    private Decoded toRequest() {
      String missing = firstMissing("srcid", srcid, "privPoliId", policyId, "payload", payload);
      if (missing != null) {
        return refused(ErrorCode.MISSING_FIELD, "missing field \"" + missing + "\"");
      }
      if (!Packet.isName(policyId)) {
        return refused(
            ErrorCode.INVALID_FIELD,
            "field \"privPoliId\" must be 1-64 characters of A-Z a-z 0-9 . _ -");
      }
      if (payloadSize != null) {
        int actual = payload.getBytes(StandardCharsets.UTF_8).length;
        if (!payloadSize.equals(Integer.toString(actual))) {
          return refused(
              ErrorCode.PAYLOADSIZE_MISMATCH,
              "payloadsize is "
                  + abbreviate(payloadSize)
                  + " but the payload has "
                  + actual
                  + " UTF-8 bytes");
        }
      }
      return new Decoded.Ok(new Packet.Request(srcid, policyId, payload));
    }

    private Decoded toRegistration() {
      String missing =
          firstMissing("id", serverId, "privPolyId", registeredPolicyId, "listenport", listenPort);
      if (missing != null) {
        return refused(ErrorCode.MISSING_FIELD, "missing field \"" + missing + "\"");
      }
      if (!Packet.isName(serverId) || !Packet.isName(registeredPolicyId)) {
        return refused(
            ErrorCode.INVALID_FIELD,
            "fields \"id\" and \"privPolyId\" must be 1-64 characters of A-Z a-z 0-9 . _ -");
      }
      int port = listenPort.matches("[0-9]{1,5}") ? Integer.parseInt(listenPort) : -1;
      if (port < 1 || port > 65535) {
        return refused(ErrorCode.INVALID_FIELD, "field \"listenport\" must be a port, 1-65535");
      }
      int concurrent = 1;
      if (connections != null) {
        concurrent = connections.matches("[0-9]{1,4}") ? Integer.parseInt(connections) : 0;
        if (concurrent < 1) {
          return refused(ErrorCode.INVALID_FIELD, "field \"connections\" must be 1-9999");
        }
      }
      return new Decoded.Ok(
          new Packet.Registration(serverId, registeredPolicyId, port, concurrent, token));
    }

    private Decoded toReply() {
      String missing = firstMissing("srcid", srcid, "destid", destid, "payload", payload);
      if (missing != null) {
        return refused(ErrorCode.MISSING_FIELD, "missing field \"" + missing + "\"");
      }
      return new Decoded.Ok(new Packet.Reply(srcid, destid, payload));
    }

    private Decoded toError() {
      String missing = firstMissing("code", code, "message", message);
      if (missing != null) {
        return refused(ErrorCode.MISSING_FIELD, "missing field \"" + missing + "\"");
      }
      return new Decoded.Ok(new Packet.Error(destid, code, message));
    }

    /** The name of the first absent field, given as name/value pairs, or null if none is. */
    private static String firstMissing(String... namesAndValues) {
      for (int i = 0; i < namesAndValues.length; i += 2) {
        if (namesAndValues[i + 1] == null) {
          return namesAndValues[i];
        }
      }
      return null;
    }

    private static String describe(JsonToken token) {
      return switch (token) {
        case START_OBJECT -> "an object";
        case START_ARRAY -> "an array";
        case VALUE_NUMBER_FLOAT -> "a decimal number";
        case VALUE_NUMBER_INT -> "a number";
        case VALUE_TRUE, VALUE_FALSE -> "a boolean";
        case VALUE_NULL -> "null";
        default -> token.toString();
      };
    }

    private static String abbreviate(String value) {
      return value.length() <= 40 ? value : value.substring(0, 40) + "...";
    }
  }
}
