package revproxy.protocol;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.util.ByteString;
import java.io.ByteArrayOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PacketCodecTest {

  /** SHA-1 of "xyz3" (python3: hashlib.sha1("xyz3".encode()).hexdigest()). */
  private static final String SHA1_XYZ3 = "02507026f1cd2e04059c1ee524381f1aa785661c";

  /**
   * A string with every kind of character json.dumps treats specially: quote, backslash, newline,
   * tab, control char U+0001, CR, backspace, form feed, DEL, 'é' and an emoji (a surrogate pair).
   */
  private static final String AWKWARD = "q\"b\\n\nt\tc\u0001e\u00e9x\uD83D\uDE00\r\b\f\u007f/";

  /** python3: json.dumps(AWKWARD). */
  private static final String AWKWARD_AS_PYTHON_JSON =
      "\"q\\\"b\\\\n\\nt\\tc\\u0001e\\u00e9x\\ud83d\\ude00\\r\\b\\f\\u007f/\"";

  private static Decoded decode(String json) {
    return PacketCodec.decode(ByteString.fromString(json, UTF_8));
  }

  private static Decoded decode(byte[] json) {
    return PacketCodec.decode(ByteString.fromArray(json));
  }

  private static Decoded.Refused decodeRefused(String json) {
    return assertInstanceOf(Decoded.Refused.class, decode(json));
  }

  private static Decoded.Refused decodeRefused(byte[] json) {
    return assertInstanceOf(Decoded.Refused.class, decode(json));
  }

  private static String encoded(Packet packet) {
    return PacketCodec.encode(packet).decodeString(UTF_8);
  }

  /** The bytes of {@code before}, then {@code raw}, then {@code after} (both UTF-8). */
  private static byte[] withRawBytes(String before, byte[] raw, String after) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(before.getBytes(UTF_8));
    out.writeBytes(raw);
    out.writeBytes(after.getBytes(UTF_8));
    return out.toByteArray();
  }

  // ---------------------------------------------------------------- decode: valid requests

  @Test
  void stringFieldsDecodeIntoARequest() {
    assertEquals(
        new Decoded.Ok(new Packet.Request("0", "111", "xyz0")),
        decode(
            "{\"type\": \"0\", \"srcid\": \"0\", \"privPoliId\": \"111\", \"payload\": \"xyz0\"}"));
  }

  @Test
  void numericFieldsAreAcceptedAsTheirDecimalText() {
    assertEquals(
        new Decoded.Ok(new Packet.Request("15", "111", "xyz15")),
        decode("{\"type\": 0, \"srcid\": 15, \"privPoliId\": 111, \"payload\": \"xyz15\"}"));
  }

  @Test
  void fieldsMayComeInAnyOrderWithSurroundingWhitespace() {
    assertEquals(
        new Decoded.Ok(new Packet.Request("4", "a.B_c-9", "p")),
        decode(
            " \n{\"payload\": \"p\", \"privPoliId\": \"a.B_c-9\", \"srcid\": \"4\", \"type\": \"0\"}\r\n\t"));
  }

  @Test
  void escapesInStringsAreDecoded() {
    assertEquals(
        new Decoded.Ok(new Packet.Request("1", "111", "a\"b\\c\nd\u00e9\uD83D\uDE00")),
        decode(
            "{\"type\": \"0\", \"srcid\": \"1\", \"privPoliId\": \"111\","
                + " \"payload\": \"a\\\"b\\\\c\\nd\\u00e9\\ud83d\\ude00\"}"));
  }

  @Test
  void hugeIntegerSrcidIsAcceptedAsItsText() {
    assertEquals(
        new Decoded.Ok(new Packet.Request("123456789012345678901234567890", "111", "x")),
        decode(
            "{\"type\": \"0\", \"srcid\": 123456789012345678901234567890,"
                + " \"privPoliId\": \"111\", \"payload\": \"x\"}"));
  }

  @Test
  void negativeIntegerSrcidIsAcceptedAsItsText() {
    assertEquals(
        new Decoded.Ok(new Packet.Request("-7", "111", "x")),
        decode("{\"type\": \"0\", \"srcid\": -7, \"privPoliId\": \"111\", \"payload\": \"x\"}"));
  }

  @Test
  void unknownExtraFieldsAreIgnored() {
    assertEquals(
        new Decoded.Ok(new Packet.Request("5", "111", "xyz5")),
        decode(
            "{\"type\": \"0\", \"srcid\": \"5\", \"extra\": {\"nested\": [1, {\"payload\": 2}]},"
                + " \"privPoliId\": \"111\", \"flag\": true, \"n\": null, \"f\": 1.5,"
                + " \"payload\": \"xyz5\"}"));
  }

  // ---------------------------------------------------------------- decode: payloadsize

  @Test
  void matchingPayloadsizeIsAccepted() {
    assertEquals(
        new Decoded.Ok(new Packet.Request("16", "222", "xyz16")),
        decode(
            "{\"type\": \"0\", \"srcid\": \"16\", \"privPoliId\": \"222\", \"payloadsize\": 5,"
                + " \"payload\": \"xyz16\"}"));
  }

  @Test
  void payloadsizeCountsUtf8BytesNotCharacters() {
    // "é" is 2 UTF-8 bytes, "✓" 3 and "😀" 4: 9 bytes in 3 code points (4 Java chars).
    String payload = "\u00e9\u2713\uD83D\uDE00";
    assertEquals(
        new Decoded.Ok(new Packet.Request("8", "111", payload)),
        decode(
            "{\"type\": \"0\", \"srcid\": \"8\", \"privPoliId\": \"111\", \"payloadsize\": 9,"
                + " \"payload\": \""
                + payload
                + "\"}"));
  }

  @Test
  void payloadsizeCountingCharactersInsteadOfUtf8BytesIsAMismatch() {
    String payload = "\u00e9\u2713\uD83D\uDE00";
    assertEquals(
        new Decoded.Refused(
            "8",
            ErrorCode.PAYLOADSIZE_MISMATCH,
            "payloadsize is 4 but the payload has 9 UTF-8 bytes"),
        decode(
            "{\"type\": \"0\", \"srcid\": \"8\", \"privPoliId\": \"111\", \"payloadsize\": 4,"
                + " \"payload\": \""
                + payload
                + "\"}"));
  }

  @Test
  void payloadsizeMayBeANumericString() {
    assertEquals(
        new Decoded.Ok(new Packet.Request("16", "222", "xyz16")),
        decode(
            "{\"type\": \"0\", \"srcid\": \"16\", \"privPoliId\": \"222\", \"payloadsize\": \"5\","
                + " \"payload\": \"xyz16\"}"));
  }

  @Test
  void mismatchingPayloadsizeIsAnErrorAddressedToTheSender() {
    assertEquals(
        new Decoded.Refused(
            "16",
            ErrorCode.PAYLOADSIZE_MISMATCH,
            "payloadsize is 6 but the payload has 5 UTF-8 bytes"),
        decode(
            "{\"type\": \"0\", \"srcid\": \"16\", \"privPoliId\": \"222\", \"payloadsize\": 6,"
                + " \"payload\": \"xyz16\"}"));
  }

  @Test
  void nonNumericPayloadsizeIsAMismatch() {
    assertEquals(
        new Decoded.Refused(
            "16",
            ErrorCode.PAYLOADSIZE_MISMATCH,
            "payloadsize is five but the payload has 5 UTF-8 bytes"),
        decode(
            "{\"type\": \"0\", \"srcid\": \"16\", \"privPoliId\": \"222\", \"payloadsize\": \"five\","
                + " \"payload\": \"xyz16\"}"));
  }

  // ---------------------------------------------------------------- decode: missing fields

  @Test
  void missingTypeIsReported() {
    assertEquals(
        new Decoded.Refused("1", ErrorCode.MISSING_FIELD, "missing field \"type\""),
        decode("{\"srcid\": \"1\", \"privPoliId\": \"111\", \"payload\": \"x\"}"));
  }

  @Test
  void missingSrcidIsReportedWithoutADestid() {
    assertEquals(
        new Decoded.Refused(null, ErrorCode.MISSING_FIELD, "missing field \"srcid\""),
        decode("{\"type\": \"0\", \"privPoliId\": \"111\", \"payload\": \"x\"}"));
  }

  @Test
  void missingPolicyIdIsReported() {
    assertEquals(
        new Decoded.Refused("1", ErrorCode.MISSING_FIELD, "missing field \"privPoliId\""),
        decode("{\"type\": \"0\", \"srcid\": \"1\", \"payload\": \"x\"}"));
  }

  @Test
  void missingPayloadIsReported() {
    assertEquals(
        new Decoded.Refused("1", ErrorCode.MISSING_FIELD, "missing field \"payload\""),
        decode("{\"type\": \"0\", \"srcid\": \"1\", \"privPoliId\": \"111\"}"));
  }

  @Test
  void emptyObjectIsMissingItsType() {
    assertEquals(
        new Decoded.Refused(null, ErrorCode.MISSING_FIELD, "missing field \"type\""), decode("{}"));
  }

  // ---------------------------------------------------------------- decode: wrong JSON types

  @Test
  void payloadAsNumberIsInvalid() {
    assertEquals(
        new Decoded.Refused(
            "1", ErrorCode.INVALID_FIELD, "field \"payload\" must be a string, not a number"),
        decode("{\"type\": \"0\", \"srcid\": \"1\", \"privPoliId\": \"111\", \"payload\": 42}"));
  }

  @Test
  void srcidAsObjectIsInvalid() {
    assertEquals(
        new Decoded.Refused(
            null,
            ErrorCode.INVALID_FIELD,
            "field \"srcid\" must be a string or an integer, not an object"),
        decode(
            "{\"type\": \"0\", \"srcid\": {\"id\": \"1\"}, \"privPoliId\": \"111\", \"payload\": \"x\"}"));
  }

  @Test
  void srcidAsArrayIsInvalid() {
    assertEquals(
        new Decoded.Refused(
            null,
            ErrorCode.INVALID_FIELD,
            "field \"srcid\" must be a string or an integer, not an array"),
        decode(
            "{\"type\": \"0\", \"srcid\": [1, [2]], \"privPoliId\": \"111\", \"payload\": \"x\"}"));
  }

  @Test
  void srcidAsDecimalNumberIsInvalid() {
    assertEquals(
        new Decoded.Refused(
            null,
            ErrorCode.INVALID_FIELD,
            "field \"srcid\" must be a string or an integer, not a decimal number"),
        decode("{\"type\": \"0\", \"srcid\": 1.5, \"privPoliId\": \"111\", \"payload\": \"x\"}"));
  }

  @Test
  void srcidAsBooleanIsInvalid() {
    assertEquals(
        new Decoded.Refused(
            null,
            ErrorCode.INVALID_FIELD,
            "field \"srcid\" must be a string or an integer, not a boolean"),
        decode("{\"type\": \"0\", \"srcid\": true, \"privPoliId\": \"111\", \"payload\": \"x\"}"));
  }

  @Test
  void srcidAsNullIsInvalid() {
    assertEquals(
        new Decoded.Refused(
            null,
            ErrorCode.INVALID_FIELD,
            "field \"srcid\" must be a string or an integer, not null"),
        decode("{\"type\": \"0\", \"srcid\": null, \"privPoliId\": \"111\", \"payload\": \"x\"}"));
  }

  @Test
  void theFirstInvalidFieldIsTheOneReported() {
    assertEquals(
        new Decoded.Refused(
            "3",
            ErrorCode.INVALID_FIELD,
            "field \"privPoliId\" must be a string or an integer, not an array"),
        decode("{\"type\": \"0\", \"privPoliId\": [], \"payload\": 1, \"srcid\": \"3\"}"));
  }

  // ---------------------------------------------------------------- decode: policy ids

  @Test
  void policyIdWithASpaceIsInvalid() {
    assertEquals(
        new Decoded.Refused(
            "1",
            ErrorCode.INVALID_FIELD,
            "field \"privPoliId\" must be 1-64 characters of A-Z a-z 0-9 . _ -"),
        decode(
            "{\"type\": \"0\", \"srcid\": \"1\", \"privPoliId\": \"1 11\", \"payload\": \"x\"}"));
  }

  @Test
  void policyIdOf65CharactersIsInvalid() {
    assertEquals(
        new Decoded.Refused(
            "1",
            ErrorCode.INVALID_FIELD,
            "field \"privPoliId\" must be 1-64 characters of A-Z a-z 0-9 . _ -"),
        decode(
            "{\"type\": \"0\", \"srcid\": \"1\", \"privPoliId\": \""
                + "p".repeat(65)
                + "\", \"payload\": \"x\"}"));
  }

  @Test
  void policyIdOf64CharactersIsValid() {
    assertEquals(
        new Decoded.Ok(new Packet.Request("1", "p".repeat(64), "x")),
        decode(
            "{\"type\": \"0\", \"srcid\": \"1\", \"privPoliId\": \""
                + "p".repeat(64)
                + "\", \"payload\": \"x\"}"));
  }

  @Test
  void emptyPolicyIdIsInvalid() {
    assertEquals(
        new Decoded.Refused(
            "1",
            ErrorCode.INVALID_FIELD,
            "field \"privPoliId\" must be 1-64 characters of A-Z a-z 0-9 . _ -"),
        decode("{\"type\": \"0\", \"srcid\": \"1\", \"privPoliId\": \"\", \"payload\": \"x\"}"));
  }

  // ---------------------------------------------------------------- decode: types

  @Test
  void typeOneIsALegacyServerRegistrationWithTheOriginalsSpelling() {
    assertEquals(
        new Decoded.Ok(new Packet.Registration("100", "111", 2105)),
        decode(
            "{\"type\": \"1\", \"id\": \"100\", \"privPolyId\": \"111\", \"listenport\": \"2105\"}"));
    assertEquals(
        new Decoded.Ok(new Packet.Registration("7", "222", 65535)),
        decode("{\"type\": 1, \"id\": 7, \"privPolyId\": 222, \"listenport\": 65535}"));
  }

  @Test
  void registrationWithoutAUsablePortOrIdIsRefused() {
    assertEquals(
        new Decoded.Refused(null, ErrorCode.MISSING_FIELD, "missing field \"listenport\""),
        decode("{\"type\": \"1\", \"id\": \"100\", \"privPolyId\": \"111\"}"));
    assertEquals(
        new Decoded.Refused(
            null, ErrorCode.INVALID_FIELD, "field \"listenport\" must be a port, 1-65535"),
        decode(
            "{\"type\": \"1\", \"id\": \"100\", \"privPolyId\": \"111\", \"listenport\": \"abc\"}"));
    assertEquals(
        new Decoded.Refused(
            null, ErrorCode.INVALID_FIELD, "field \"listenport\" must be a port, 1-65535"),
        decode(
            "{\"type\": \"1\", \"id\": \"100\", \"privPolyId\": \"111\", \"listenport\": 70000}"));
    assertEquals(
        new Decoded.Refused(
            null, ErrorCode.INVALID_FIELD, "field \"listenport\" must be a port, 1-65535"),
        decode(
            "{\"type\": \"1\", \"id\": \"100\", \"privPolyId\": \"111\", \"listenport\": \"0\"}"));
    assertEquals(
        new Decoded.Refused(
            null,
            ErrorCode.INVALID_FIELD,
            "fields \"id\" and \"privPolyId\" must be 1-64 characters of A-Z a-z 0-9 . _ -"),
        decode(
            "{\"type\": \"1\", \"id\": \"1 0\", \"privPolyId\": \"111\", \"listenport\": \"2105\"}"));
  }

  @Test
  void registrationMayAnnounceHowManyConnectionsTheServerServes() {
    assertEquals(
        new Decoded.Ok(new Packet.Registration("100", "111", 2105, 32)),
        decode(
            "{\"type\": \"1\", \"id\": \"100\", \"privPolyId\": \"111\", \"listenport\": \"2105\", \"connections\": 32}"));
    assertEquals(
        "{\"type\": \"1\", \"id\": \"100\", \"privPolyId\": \"111\", \"listenport\": \"2105\", \"connections\": 32}",
        PacketCodec.encode(new Packet.Registration("100", "111", 2105, 32)).utf8String());
    assertEquals(
        new Decoded.Refused(null, ErrorCode.INVALID_FIELD, "field \"connections\" must be 1-9999"),
        decode(
            "{\"type\": \"1\", \"id\": \"100\", \"privPolyId\": \"111\", \"listenport\": \"2105\", \"connections\": 0}"));
  }

  @Test
  void registrationMayCarryATokenWhichNeverShowsInItsText() {
    Packet.Registration withToken = new Packet.Registration("100", "111", 2105, 1, "s3cret");
    assertEquals(
        new Decoded.Ok(withToken),
        decode(
            "{\"type\": \"1\", \"id\": \"100\", \"privPolyId\": \"111\", \"listenport\": \"2105\", \"token\": \"s3cret\"}"));
    assertEquals(
        "{\"type\": \"1\", \"id\": \"100\", \"privPolyId\": \"111\", \"listenport\": \"2105\", \"token\": \"s3cret\"}",
        PacketCodec.encode(withToken).utf8String());
    assertEquals(
        "Registration[serverId=100, policyId=111, listenPort=2105, connections=1, token=<hidden>]",
        withToken.toString());
    assertEquals(
        new Decoded.Refused(
            null, ErrorCode.INVALID_FIELD, "field \"token\" must be a string, not a number"),
        decode(
            "{\"type\": \"1\", \"id\": \"100\", \"privPolyId\": \"111\", \"listenport\": \"2105\", \"token\": 7}"));
  }

  @Test
  void registrationEncodesExactlyAsTheOriginalServerSendsIt() {
    // python3: json.dumps({"type": "1", "id": "100", "privPolyId": "111", "listenport": "2105"})
    assertEquals(
        "{\"type\": \"1\", \"id\": \"100\", \"privPolyId\": \"111\", \"listenport\": \"2105\"}",
        PacketCodec.encode(new Packet.Registration("100", "111", 2105)).utf8String());
  }

  @Test
  void typeSevenIsUnsupported() {
    assertEquals(
        new Decoded.Refused("1", ErrorCode.UNSUPPORTED_TYPE, "unknown packet type \"7\""),
        decode("{\"type\": \"7\", \"srcid\": \"1\", \"privPoliId\": \"111\", \"payload\": \"x\"}"));
  }

  @Test
  void typeTwoDecodesIntoAReply() {
    assertEquals(
        new Decoded.Ok(new Packet.Reply("100", "3", SHA1_XYZ3)),
        decode(
            "{\"type\": \"2\", \"srcid\": \"100\", \"destid\": \"3\", \"payloadsize\": 40,"
                + " \"payload\": \""
                + SHA1_XYZ3
                + "\"}"));
  }

  @Test
  void numericTypeTwoWithNumericIdsDecodesIntoAReply() {
    assertEquals(
        new Decoded.Ok(new Packet.Reply("100", "3", "abc")),
        decode("{\"type\": 2, \"srcid\": 100, \"destid\": 3, \"payload\": \"abc\"}"));
  }

  @Test
  void replyWithoutDestidIsMissingAField() {
    assertEquals(
        new Decoded.Refused("100", ErrorCode.MISSING_FIELD, "missing field \"destid\""),
        decode("{\"type\": \"2\", \"srcid\": \"100\", \"payload\": \"abc\"}"));
  }

  @Test
  void typeThreeDecodesIntoAnError() {
    assertEquals(
        new Decoded.Ok(new Packet.Error("3", "timeout", "the router did not answer")),
        decode(
            "{\"type\": \"3\", \"destid\": \"3\", \"code\": \"timeout\","
                + " \"message\": \"the router did not answer\"}"));
  }

  @Test
  void typeThreeWithoutDestidDecodesIntoAnErrorWithNullDestid() {
    assertEquals(
        new Decoded.Ok(new Packet.Error(null, "not_json", "not a JSON object: x")),
        decode("{\"type\": \"3\", \"code\": \"not_json\", \"message\": \"not a JSON object: x\"}"));
  }

  /**
   * The proxy encodes an error whose sender is unknown with {@code "destid": null} (like Python's
   * json.dumps of None); the client must read it back as that error, not as an invalid field.
   */
  @Test
  void typeThreeWithNullDestidDecodesIntoAnErrorWithNullDestid() {
    assertEquals(
        new Decoded.Ok(new Packet.Error(null, "not_json", "not a JSON object: x")),
        decode(
            "{\"type\": \"3\", \"destid\": null, \"code\": \"not_json\","
                + " \"message\": \"not a JSON object: x\"}"));
  }

  @Test
  void typeThreeWithoutMessageIsMissingAField() {
    assertEquals(
        new Decoded.Refused("3", ErrorCode.MISSING_FIELD, "missing field \"message\""),
        decode("{\"type\": \"3\", \"srcid\": \"3\", \"code\": \"timeout\"}"));
  }

  /**
   * A type "3" packet from a peer and bytes that are no packet are told apart even when they carry
   * the same code and message: the first is a packet (to a client, the proxy's error reply), the
   * second the reader's own refusal.
   */
  @Test
  void aWellFormedTypeThreeIsOkWhileMalformedInputIsRefused() {
    assertEquals(
        new Decoded.Ok(new Packet.Error(null, "malformed_json", "a packet must be a JSON object")),
        decode(
            "{\"type\": \"3\", \"destid\": null, \"code\": \"malformed_json\","
                + " \"message\": \"a packet must be a JSON object\"}"));
    assertEquals(
        new Decoded.Refused(null, ErrorCode.MALFORMED_JSON, "a packet must be a JSON object"),
        decode("[\"type\", \"3\"]"));
  }

  // ---------------------------------------------------------------- decode: malformed JSON

  @Test
  void aJsonArrayIsNotAPacket() {
    assertEquals(
        new Decoded.Refused(null, ErrorCode.MALFORMED_JSON, "a packet must be a JSON object"),
        decode("[{\"type\": \"0\"}]"));
  }

  @Test
  void aSecondObjectAfterTheFirstIsUnexpectedData() {
    assertEquals(
        new Decoded.Refused("1", ErrorCode.MALFORMED_JSON, "unexpected data after the JSON object"),
        decode(
            "{\"type\": \"0\", \"srcid\": \"1\", \"privPoliId\": \"111\", \"payload\": \"x\"} {}"));
  }

  @Test
  void truncatedObjectIsMalformedAndAddressedToTheSrcidReadBeforeIt() {
    Decoded.Refused refused =
        decodeRefused("{\"type\": \"0\", \"srcid\": \"4\", \"privPoliId\": \"11");
    assertEquals("4", refused.destId());
    assertEquals(ErrorCode.MALFORMED_JSON, refused.code());
    assertTrue(
        refused.message().startsWith("malformed JSON: Unexpected end-of-input"), refused.message());
  }

  @Test
  void trailingCommaIsMalformed() {
    Decoded.Refused refused =
        decodeRefused(
            "{\"type\": \"0\", \"srcid\": \"2\", \"privPoliId\": \"111\", \"payload\": \"x\",}");
    assertEquals("2", refused.destId());
    assertEquals(ErrorCode.MALFORMED_JSON, refused.code());
    assertTrue(
        refused.message().startsWith("malformed JSON: Unexpected character ('}' (code 125))"),
        refused.message());
  }

  @Test
  void malformedJsonBeforeSrcidHasNoDestid() {
    Decoded.Refused refused = decodeRefused("{\"type\": \"0\",, \"srcid\": \"2\"}");
    assertNull(refused.destId());
    assertEquals(ErrorCode.MALFORMED_JSON, refused.code());
    assertTrue(
        refused.message().startsWith("malformed JSON: Unexpected character (',' (code 44))"),
        refused.message());
  }

  @Test
  void rawNulByteInsideAStringIsMalformed() {
    byte[] json =
        withRawBytes(
            "{\"type\": \"0\", \"srcid\": \"6\", \"privPoliId\": \"111\", \"payload\": \"a",
            new byte[] {0x00},
            "b\"}");
    Decoded.Refused refused = decodeRefused(json);
    assertEquals("6", refused.destId());
    assertEquals(ErrorCode.MALFORMED_JSON, refused.code());
    assertTrue(
        refused
            .message()
            .startsWith("malformed JSON: Illegal unquoted character ((CTRL-CHAR, code 0))"),
        refused.message());
  }

  @Test
  void rawNulByteInsideAnIgnoredStringIsStillMalformed() {
    byte[] json =
        withRawBytes(
            "{\"type\": \"0\", \"srcid\": \"6\", \"note\": \"a",
            new byte[] {0x00},
            "b\", \"privPoliId\": \"111\", \"payload\": \"x\"}");
    Decoded.Refused refused = decodeRefused(json);
    assertEquals("6", refused.destId());
    assertEquals(ErrorCode.MALFORMED_JSON, refused.code());
  }

  @Test
  void invalidUtf8InsideAStringIsMalformed() {
    byte[] json =
        withRawBytes(
            "{\"type\": \"0\", \"srcid\": \"7\", \"privPoliId\": \"111\", \"payload\": \"a",
            new byte[] {(byte) 0xC3, 0x28},
            "b\"}");
    Decoded.Refused refused = decodeRefused(json);
    assertEquals("7", refused.destId());
    assertEquals(ErrorCode.MALFORMED_JSON, refused.code());
    assertTrue(
        refused.message().startsWith("malformed JSON: Invalid UTF-8 middle byte 0x28"),
        refused.message());
  }

  @Test
  void duplicateKeyIsMalformedAndAddressedToTheFirstSrcid() {
    Decoded.Refused refused =
        decodeRefused(
            "{\"type\": \"0\", \"srcid\": \"5\", \"srcid\": \"6\", \"privPoliId\": \"111\","
                + " \"payload\": \"x\"}");
    assertEquals("5", refused.destId());
    assertEquals(ErrorCode.MALFORMED_JSON, refused.code());
    assertEquals("malformed JSON: Duplicate field 'srcid'", refused.message());
  }

  /** Duplicate keys anywhere in the object: unknown fields and objects nested in them too. */
  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "{\"type\": \"0\", \"x\": 1, \"x\": 2, \"srcid\": \"5\"} | x",
        "{\"type\": \"0\", \"x\": {\"a\": 1, \"b\": {\"c\": 1, \"c\": 2}}} | c",
        "{\"type\": \"0\", \"x\": [1, {\"a\": 1, \"a\": 2}]} | a",
        "{\"type\": \"0\", \"srcid\": {\"a\": 1, \"a\": 2}} | a",
        "{\"type\": \"0\", \"type\": \"0\", \"srcid\": \"5\"} | type"
      })
  void aDuplicateKeyAnywhereIsMalformed(String json, String key) {
    Decoded.Refused refused = decodeRefused(json);
    assertEquals(ErrorCode.MALFORMED_JSON, refused.code());
    assertEquals("malformed JSON: Duplicate field '" + key + "'", refused.message());
  }

  /** The same keys in different objects are no duplicates. */
  @Test
  void theSameKeyInTwoNestedObjectsIsNoDuplicate() {
    Decoded decoded =
        PacketCodec.decode(
            ByteString.fromString(
                "{\"type\": \"0\", \"srcid\": \"5\", \"privPoliId\": \"111\","
                    + " \"payload\": \"x\", \"ext\": [{\"a\": 1}, {\"a\": 2}],"
                    + " \"more\": {\"a\": {\"a\": 1}}}"));
    assertEquals(new Decoded.Ok(new Packet.Request("5", "111", "x")), decoded);
  }

  @Test
  void nestingTwoThousandDeepIsMalformed() {
    Decoded.Refused refused =
        decodeRefused(
            "{\"type\": \"0\", \"srcid\": \"9\", \"a\": "
                + "[".repeat(2000)
                + "]".repeat(2000)
                + ", \"privPoliId\": \"111\", \"payload\": \"x\"}");
    assertEquals("9", refused.destId());
    assertEquals(ErrorCode.MALFORMED_JSON, refused.code());
    assertTrue(
        refused.message().startsWith("malformed JSON: Document nesting depth ("),
        refused.message());
  }

  @Test
  void malformedJsonDetailIsCappedAt160Characters() {
    Decoded.Refused refused =
        decodeRefused("{\"type\": \"0\", \"srcid\": \"1\", \"a\": t" + "k".repeat(500) + "}");
    assertEquals("1", refused.destId());
    assertEquals(ErrorCode.MALFORMED_JSON, refused.code());
    assertTrue(
        refused.message().startsWith("malformed JSON: Unrecognized token 'tkkk"),
        refused.message());
    assertTrue(refused.message().endsWith("kkk..."), refused.message());
    assertEquals("malformed JSON: ".length() + 160 + "...".length(), refused.message().length());
  }

  @Test
  void emptyInputIsNotAPacket() {
    assertEquals(
        new Decoded.Refused(null, ErrorCode.MALFORMED_JSON, "a packet must be a JSON object"),
        decode(new byte[0]));
  }

  // ---------------------------------------------------------------- decode: framing problems

  @Test
  void garbageFrameBecomesNotJson() {
    assertEquals(
        new Decoded.Refused(
            null,
            ErrorCode.NOT_JSON,
            "not a JSON object: expected '{' but found 'h' (4 bytes skipped)"),
        PacketCodec.decode(new Frame.Garbage("expected '{' but found 'h' (4 bytes skipped)")));
  }

  @Test
  void tooLargeFrameBecomesPacketTooLarge() {
    assertEquals(
        new Decoded.Refused(
            null,
            ErrorCode.PACKET_TOO_LARGE,
            "packet larger than 100 bytes; closing the connection"),
        PacketCodec.decode(new Frame.TooLarge(100)));
  }

  @Test
  void jsonFrameIsDecodedLikeItsBytes() {
    assertEquals(
        new Decoded.Ok(new Packet.Request("0", "111", "xyz0")),
        PacketCodec.decode(
            new Frame.Json(
                ByteString.fromString(
                    "{\"type\": \"0\", \"srcid\": \"0\", \"privPoliId\": \"111\", \"payload\": \"xyz0\"}",
                    UTF_8))));
  }

  // ---------------------------------------------------------------- encode

  @Test
  void replyIsEncodedExactlyAsPythonJsonDumps() {
    // python3: json.dumps({"type": "2", "srcid": "100", "destid": "3", "payloadsize": 40,
    //                      "payload": "02507026f1cd2e04059c1ee524381f1aa785661c"})
    assertEquals(
        "{\"type\": \"2\", \"srcid\": \"100\", \"destid\": \"3\", \"payloadsize\": 40,"
            + " \"payload\": \"02507026f1cd2e04059c1ee524381f1aa785661c\"}",
        encoded(new Packet.Reply("100", "3", SHA1_XYZ3)));
  }

  @Test
  void errorWithNullDestidIsEncodedExactlyAsPythonJsonDumps() {
    // python3: json.dumps({"type": "3", "destid": None, "code": "not_json",
    //                      "message": "not a JSON object: x"})
    assertEquals(
        "{\"type\": \"3\", \"destid\": null, \"code\": \"not_json\","
            + " \"message\": \"not a JSON object: x\"}",
        encoded(new Packet.Error(null, "not_json", "not a JSON object: x")));
  }

  @Test
  void requestIsEncodedExactlyAsPythonJsonDumps() {
    // python3: json.dumps({"type": "0", "srcid": "0", "privPoliId": "111", "payload": "xyz0"})
    assertEquals(
        "{\"type\": \"0\", \"srcid\": \"0\", \"privPoliId\": \"111\", \"payload\": \"xyz0\"}",
        encoded(new Packet.Request("0", "111", "xyz0")));
  }

  @Test
  void specialCharactersAreEscapedExactlyAsPythonJsonDumps() {
    assertEquals(
        "{\"type\": \"0\", \"srcid\": "
            + AWKWARD_AS_PYTHON_JSON
            + ", \"privPoliId\": \"111\", \"payload\": "
            + AWKWARD_AS_PYTHON_JSON
            + "}",
        encoded(new Packet.Request(AWKWARD, "111", AWKWARD)));
  }

  @Test
  void errorMessageIsEscapedExactlyAsPythonJsonDumps() {
    // python3: json.dumps({"type": "3", "destid": "7", "code": "c", "message": AWKWARD})
    assertEquals(
        "{\"type\": \"3\", \"destid\": \"7\", \"code\": \"c\", \"message\": "
            + "\"q\\\"b\\\\n\\nt\\tc\\u0001e\\u00e9x\\ud83d\\ude00\\r\\b\\f\\u007f/\"}",
        encoded(new Packet.Error("7", "c", AWKWARD)));
  }

  @Test
  void encodedBytesAreAllAscii() {
    ByteString bytes = PacketCodec.encode(new Packet.Error("7", "c", "Gr\u00fc\u00dfe \u2713"));
    for (int i = 0; i < bytes.length(); i++) {
      int b = bytes.apply(i) & 0xFF;
      assertTrue(b >= 0x20 && b <= 0x7E, "byte " + i + " is 0x" + Integer.toHexString(b));
    }
    assertEquals(
        "{\"type\": \"3\", \"destid\": \"7\", \"code\": \"c\", \"message\": \"Gr\\u00fc\\u00dfe \\u2713\"}",
        bytes.utf8String());
  }

  // ---------------------------------------------------------------- round trips

  @Test
  void requestSurvivesARoundTrip() {
    Packet.Request request = new Packet.Request("15", "111", AWKWARD);
    assertEquals(new Decoded.Ok(request), PacketCodec.decode(PacketCodec.encode(request)));
  }

  @Test
  void replySurvivesARoundTrip() {
    Packet.Reply reply = new Packet.Reply("100", "3", SHA1_XYZ3);
    assertEquals(new Decoded.Ok(reply), PacketCodec.decode(PacketCodec.encode(reply)));
  }

  @Test
  void errorWithDestidSurvivesARoundTrip() {
    Packet.Error error = new Packet.Error("7", "timeout", AWKWARD);
    assertEquals(new Decoded.Ok(error), PacketCodec.decode(PacketCodec.encode(error)));
  }

  /** See {@link #typeThreeWithNullDestidDecodesIntoAnErrorWithNullDestid()}. */
  @Test
  void errorWithNullDestidSurvivesARoundTrip() {
    Packet.Error error =
        new Packet.Error(
            null, "packet_too_large", "packet larger than 100 bytes; closing the connection");
    assertEquals(new Decoded.Ok(error), PacketCodec.decode(PacketCodec.encode(error)));
  }

  /**
   * What the proxy sends back for a frame it refuses is a well-formed type "3" packet: its reader,
   * unlike the proxy, has no reason to refuse it.
   */
  @Test
  void aRefusalSentBackDecodesAsAnErrorPacket() {
    Decoded refused = decode("{\"type\": \"0\", \"srcid\": \"1\", \"payload\": \"x\"}");
    assertEquals(
        new Decoded.Refused("1", ErrorCode.MISSING_FIELD, "missing field \"privPoliId\""), refused);
    assertEquals(
        new Decoded.Ok(new Packet.Error("1", "missing_field", "missing field \"privPoliId\"")),
        PacketCodec.decode(PacketCodec.encode(((Decoded.Refused) refused).toError())));
  }

  // ---------------------------------------------------------------- PayloadHash

  @Test
  void sha1OfEmptyStringIsTheKnownVector() {
    assertEquals("da39a3ee5e6b4b0d3255bfef95601890afd80709", PayloadHash.sha1Hex(""));
  }

  @Test
  void sha1OfAbcIsTheKnownVector() {
    assertEquals("a9993e364706816aba3e25717850c26c9cd0d89d", PayloadHash.sha1Hex("abc"));
  }

  @Test
  void sha1OfXyz3MatchesPythonHashlib() {
    // python3: hashlib.sha1("xyz3".encode()).hexdigest()
    assertEquals(SHA1_XYZ3, PayloadHash.sha1Hex("xyz3"));
  }

  @Test
  void sha1IsTakenOverTheUtf8Bytes() {
    // python3: hashlib.sha1("Grüße ✓".encode("utf-8")).hexdigest()
    assertEquals(
        "5abe2de6e43e1f34d26ab49223c2df755f4504d7", PayloadHash.sha1Hex("Gr\u00fc\u00dfe \u2713"));
  }

  @Test
  void sha1HexHasTheAdvertisedLength() {
    assertEquals(PayloadHash.HEX_LENGTH, PayloadHash.sha1Hex("anything").length());
    assertEquals(40, PayloadHash.HEX_LENGTH);
  }

  @Test
  void overlongAndSurrogateUtf8AreMalformedNotSmuggledIntoThePayload() {
    // C0 80 is an overlong NUL; ED A0 80 a surrogate; F4 90 80 80 beyond U+10FFFF.
    for (byte[] bad :
        new byte[][] {
          {(byte) 0xC0, (byte) 0x80},
          {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
          {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}
        }) {
      byte[] head =
          "{\"type\": \"0\", \"srcid\": \"7\", \"privPoliId\": \"111\", \"payload\": \"a"
              .getBytes(UTF_8);
      byte[] tail = "b\"}".getBytes(UTF_8);
      byte[] json = new byte[head.length + bad.length + tail.length];
      System.arraycopy(head, 0, json, 0, head.length);
      System.arraycopy(bad, 0, json, head.length, bad.length);
      System.arraycopy(tail, 0, json, head.length + bad.length, tail.length);
      assertEquals(
          new Decoded.Refused("7", ErrorCode.MALFORMED_JSON, "malformed JSON: invalid UTF-8"),
          decode(json));
    }
  }
}
