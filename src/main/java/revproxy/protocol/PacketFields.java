package revproxy.protocol;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** The fields of any packet type, read in whatever order they come. */
final class PacketFields {
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
    int known = KNOWN.indexOf(name);
    if (known < 0) {
      skip(parser); // unknown fields are ignored, for forward compatibility
      return;
    }
    String value;
    if (known >= FIRST_TEXT) {
      value = text(name, parser);
    } else if (known == DESTID) {
      value = nullableScalar(name, parser);
    } else {
      value = scalar(name, parser);
    }
    set(known, value);
  }

  /**
   * The fields of every packet type, each with its bit in {@link #seen} and its case in {@link
   * #set}. A string or an integer's text each ({@link #scalar}), except {@code destid}, which may
   * be null, and the text-only fields from {@code token} on ({@link #text}).
   */
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

  private static final int DESTID = KNOWN.indexOf("destid");
  private static final int FIRST_TEXT = KNOWN.indexOf("token");

  /**
   * Refuses a key read already in this object, as the parser stands on it (before its value, where
   * strict duplicate detection refuses it).
   */
  void firstTime(String name, JsonParser parser) throws JsonParseException {
    if (!markSeen(name)) {
      throw duplicate(name, parser);
    }
  }

  /** Notes a key of this object: false if it was read already. */
  private boolean markSeen(String name) {
    int known = KNOWN.indexOf(name);
    return known >= 0 ? markSeen(known) : unknown(name);
  }

  /**
   * Notes known field {@code known} (its index in {@link #KNOWN}): false if it was read already.
   */
  private boolean markSeen(int known) {
    if ((seen & (1 << known)) != 0) {
      return false;
    }
    seen |= 1 << known;
    return true;
  }

  /** The known keys' bytes, in the order of {@link #KNOWN}. */
  private static final byte[][] KNOWN_BYTES =
      KNOWN.stream().map(k -> k.getBytes(StandardCharsets.US_ASCII)).toArray(byte[][]::new);

  /**
   * The index in {@link #KNOWN} of the key in {@code json} at {@code from}, {@code length} bytes of
   * printable ASCII, or -1 for a key that is not a packet's.
   */
  static int knownIndex(byte[] json, int from, int length) {
    for (int k = 0; k < KNOWN_BYTES.length; k++) {
      byte[] key = KNOWN_BYTES[k];
      if (key.length == length
          && key[0] == json[from]
          && Arrays.equals(key, 0, length, json, from, from + length)) {
        return k;
      }
    }
    return -1;
  }

  /**
   * A known field read by {@link PlainObjectReader} ({@code known}: its index in {@link #KNOWN}): a
   * plain string, or an integer's text ({@code number}). False where the answer must be Jackson's:
   * a duplicate key (its words for it), or a number where only a string will do (an invalid field,
   * described from Jackson's token).
   */
  boolean plain(int known, String value, boolean number) {
    if ((number && known >= FIRST_TEXT) || !markSeen(known)) {
      return false;
    }
    set(known, value);
    return true;
  }

  private void set(int known, String value) {
    switch (known) {
      case 0 -> type = value;
      case 1 -> srcid = value;
      case 2 -> destid = value;
      case 3 -> policyId = value;
      case 4 -> payloadSize = value;
      case 5 -> serverId = value;
      case 6 -> registeredPolicyId = value;
      case 7 -> listenPort = value;
      case 8 -> connections = value;
      case 9 -> token = value;
      case 10 -> payload = value;
      case 11 -> code = value;
      default -> message = value;
    }
  }

  /**
   * An unknown field read by {@link PlainObjectReader}: ignored, as {@link #read} ignores it, but
   * false (Jackson's words) the second time.
   */
  boolean unknown(String name) {
    if (unknownSeen == null) {
      unknownSeen = new HashSet<>();
    }
    return unknownSeen.add(name);
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
        "field \"" + name + "\" must be " + expected + ", not " + describe(parser.currentToken()));
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
