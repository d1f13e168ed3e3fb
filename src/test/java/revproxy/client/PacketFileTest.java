package revproxy.client;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.util.ByteString;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import revproxy.protocol.Decoded;
import revproxy.protocol.ErrorCode;
import revproxy.protocol.Packet;
import revproxy.protocol.PayloadHash;

class PacketFileTest {

  private static final String XYZ3 =
      "{\"type\": \"0\", \"srcid\": \"3\", \"privPoliId\": \"222\", \"payload\": \"xyz3\"}";

  private static PacketFile xyz3() {
    return PacketFile.parse("3.json", XYZ3.getBytes(UTF_8));
  }

  // ---------------------------------------------------------------- parse

  @Test
  void validFileParsesIntoItsRequestAndKeepsItsBytes() {
    PacketFile file = xyz3();
    assertEquals("3.json", file.name());
    assertEquals(new Packet.Request("3", "222", "xyz3"), file.request());
    assertEquals(ByteString.fromString(XYZ3, UTF_8), file.bytes());
  }

  @Test
  void numericFieldsAreSentAsWrittenButParsedAsText() {
    String json = "{\"type\": 0, \"srcid\": 15, \"privPoliId\": 111, \"payload\": \"xyz15\"}";
    PacketFile file = PacketFile.parse("15.json", json.getBytes(UTF_8));
    assertEquals(new Packet.Request("15", "111", "xyz15"), file.request());
    assertEquals(json, file.bytes().utf8String());
  }

  @Test
  void surroundingWhitespaceIsTrimmedButInnerBytesAreKept() {
    String inner =
        "{\"type\": \"0\",\n  \"srcid\": \"17\",\t\"privPoliId\": \"111\",\r\n"
            + "  \"payload\": \"Gr\u00fc\u00dfe, \u4e16\u754c \u2713 \uD83D\uDE00 {not a brace}\"}";
    String content = " \r\n\t\n" + inner + "\n\n \t";
    PacketFile file = PacketFile.parse("17.json", content.getBytes(UTF_8));
    assertEquals(ByteString.fromArray(inner.getBytes(UTF_8)), file.bytes());
    assertEquals(
        new Packet.Request(
            "17", "111", "Gr\u00fc\u00dfe, \u4e16\u754c \u2713 \uD83D\uDE00 {not a brace}"),
        file.request());
  }

  @Test
  void notJsonIsRefusedWithTheParserReason() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> PacketFile.parse("bad.json", "hello world".getBytes(UTF_8)));
    assertTrue(
        e.getMessage()
            .startsWith(
                "packet file bad.json is not a valid request: malformed JSON: Unrecognized token 'hello'"),
        e.getMessage());
  }

  @Test
  void jsonArrayIsRefused() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> PacketFile.parse("array.json", "[1, 2]".getBytes(UTF_8)));
    assertEquals(
        "packet file array.json is not a valid request: a packet must be a JSON object",
        e.getMessage());
  }

  @Test
  void emptyFileIsRefused() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> PacketFile.parse("empty.json", new byte[0]));
    assertEquals(
        "packet file empty.json is not a valid request: a packet must be a JSON object",
        e.getMessage());
  }

  @Test
  void replyPacketIsRefused() {
    String reply =
        "{\"type\": \"2\", \"srcid\": \"100\", \"destid\": \"3\", \"payloadsize\": 40,"
            + " \"payload\": \"02507026f1cd2e04059c1ee524381f1aa785661c\"}";
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> PacketFile.parse("reply.json", reply.getBytes(UTF_8)));
    assertEquals(
        "packet file reply.json is not a valid request: packet type \"2\" is not a type \"0\" request",
        e.getMessage());
  }

  /**
   * A file holding a type "3" error packet is refused for its type, not with the file's own
   * "message" field shown as if it were the reason.
   */
  @Test
  void errorPacketIsRefusedAsNotARequestRatherThanEchoingItsMessage() {
    String error =
        "{\"type\": \"3\", \"destid\": \"3\", \"code\": \"timeout\", \"message\": \"boom\"}";
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> PacketFile.parse("error.json", error.getBytes(UTF_8)));
    assertTrue(e.getMessage().startsWith("packet file error.json "), e.getMessage());
    assertTrue(e.getMessage().endsWith("not a type \"0\" request"), e.getMessage());
  }

  /** decodeRequest accepts registrations (the proxy takes them), but a packet file is a request. */
  @Test
  void registrationPacketIsRefusedForItsType() {
    String registration =
        "{\"type\": \"1\", \"id\": \"100\", \"privPolyId\": \"111\", \"listenport\": \"2105\"}";
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> PacketFile.parse("register.json", registration.getBytes(UTF_8)));
    assertEquals(
        "packet file register.json is not a valid request: packet type \"1\" is not a type \"0\""
            + " request",
        e.getMessage());
  }

  @Test
  void missingPayloadIsRefused() {
    String json = "{\"type\": \"0\", \"srcid\": \"3\", \"privPoliId\": \"222\"}";
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> PacketFile.parse("nopayload.json", json.getBytes(UTF_8)));
    assertEquals(
        "packet file nopayload.json is not a valid request: missing field \"payload\"",
        e.getMessage());
  }

  @Test
  void payloadsizeMismatchIsRefused() {
    String json =
        "{\"type\": \"0\", \"srcid\": \"16\", \"privPoliId\": \"222\", \"payloadsize\": 4,"
            + " \"payload\": \"xyz16\"}";
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> PacketFile.parse("16.json", json.getBytes(UTF_8)));
    assertEquals(
        "packet file 16.json is not a valid request: payloadsize is 4 but the payload has 5 UTF-8 bytes",
        e.getMessage());
  }

  // ---------------------------------------------------------------- load

  private static void writeRequest(Path file, String srcid) throws IOException {
    Files.writeString(
        file,
        "{\"type\": \"0\", \"srcid\": \""
            + srcid
            + "\", \"privPoliId\": \"111\", \"payload\": \"xyz"
            + srcid
            + "\"}\n");
  }

  @Test
  void loadingADirectoryReadsItsJsonFilesInNaturalOrder(@TempDir Path dir) throws IOException {
    writeRequest(dir.resolve("10.json"), "10");
    writeRequest(dir.resolve("2.json"), "2");
    writeRequest(dir.resolve("1.json"), "1");
    Files.writeString(dir.resolve("notes.txt"), "not a packet");

    List<PacketFile> packets = PacketFile.load(List.of(dir));

    assertEquals(
        List.of(
            dir.resolve("1.json").toString(),
            dir.resolve("2.json").toString(),
            dir.resolve("10.json").toString()),
        packets.stream().map(PacketFile::name).toList());
    assertEquals(List.of("1", "2", "10"), packets.stream().map(p -> p.request().srcid()).toList());
  }

  @Test
  void loadingFilesKeepsTheGivenOrder(@TempDir Path dir) throws IOException {
    writeRequest(dir.resolve("b.json"), "2");
    writeRequest(dir.resolve("a.json"), "1");
    List<PacketFile> packets =
        PacketFile.load(List.of(dir.resolve("b.json"), dir.resolve("a.json")));
    assertEquals(List.of("2", "1"), packets.stream().map(p -> p.request().srcid()).toList());
  }

  @Test
  void loadingAMissingPathIsAReadableError(@TempDir Path dir) {
    Path missing = dir.resolve("no-such-dir");
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> PacketFile.load(List.of(missing)));
    assertEquals("no such packet file or directory: " + missing, e.getMessage());
  }

  @Test
  void loadingADirectoryWithoutJsonFilesIsAReadableError(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("notes.txt"), "not a packet");
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> PacketFile.load(List.of(dir)));
    assertEquals("no *.json packet files found in [" + dir + "]", e.getMessage());
  }

  @Test
  void loadingAnInvalidFileNamesIt(@TempDir Path dir) throws IOException {
    Path bad = dir.resolve("bad.json");
    Files.writeString(bad, "[]");
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> PacketFile.load(List.of(dir)));
    assertEquals(
        "packet file " + bad + " is not a valid request: a packet must be a JSON object",
        e.getMessage());
  }

  // ---------------------------------------------------------------- builtIn

  private static int repositoryPacketCount() throws IOException {
    // Maven runs the tests with the project root as working directory.
    try (Stream<Path> files = Files.list(Path.of("packets"))) {
      return (int) files.filter(f -> f.getFileName().toString().endsWith(".json")).count();
    }
  }

  @Test
  void builtInHoldsTheSamplePacketsInNumericOrder() throws IOException {
    int count = repositoryPacketCount();
    assertTrue(count >= 19, "the repository's packets/ folder holds " + count + " packets");

    List<PacketFile> packets = PacketFile.builtIn();

    List<String> expectedNames = new ArrayList<>();
    List<String> expectedSrcids = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      expectedNames.add("packets/" + i + ".json");
      expectedSrcids.add(Integer.toString(i));
    }
    assertEquals(expectedNames, packets.stream().map(PacketFile::name).toList());
    assertEquals(expectedSrcids, packets.stream().map(p -> p.request().srcid()).toList());
  }

  @Test
  void builtInPacketsCarryTheRepositoryFilesBytesTrimmed() throws IOException {
    List<PacketFile> packets = PacketFile.builtIn();
    for (PacketFile packet : packets) {
      String onDisk = Files.readString(Path.of(packet.name()), UTF_8).strip();
      assertEquals(onDisk, packet.bytes().utf8String(), packet.name());
    }
    assertEquals(new Packet.Request("15", "111", "xyz15"), packets.get(15).request());
    assertEquals(new Packet.Request("16", "222", "xyz16"), packets.get(16).request());
    assertEquals(
        new Packet.Request(
            "17",
            "111",
            "Gr\u00fc\u00dfe, \u4e16\u754c \u2713 \uD83D\uDE00 {not a brace} \"quoted\""),
        packets.get(17).request());
  }

  // ---------------------------------------------------------------- Exchange.verdict

  @Test
  void replyToTheSrcidWithTheRightHashIsCorrect() {
    Exchange exchange =
        new Exchange(
            xyz3(), new Decoded.Ok(new Packet.Reply("100", "3", PayloadHash.sha1Hex("xyz3"))));
    assertEquals(Exchange.Verdict.CORRECT, exchange.verdict());
    assertEquals("100", exchange.workerId());
  }

  @Test
  void replyWithAWrongHashIsNotCorrect() {
    Exchange exchange =
        new Exchange(
            xyz3(), new Decoded.Ok(new Packet.Reply("100", "3", PayloadHash.sha1Hex("xyz4"))));
    assertEquals(Exchange.Verdict.NOT_CORRECT, exchange.verdict());
  }

  @Test
  void replyWithTheRightHashToAnotherDestidIsNotCorrect() {
    Exchange exchange =
        new Exchange(
            xyz3(), new Decoded.Ok(new Packet.Reply("100", "4", PayloadHash.sha1Hex("xyz3"))));
    assertEquals(Exchange.Verdict.NOT_CORRECT, exchange.verdict());
  }

  @Test
  void requestEchoedBackIsNotCorrect() {
    Exchange exchange =
        new Exchange(xyz3(), new Decoded.Ok(new Packet.Request("3", "222", "xyz3")));
    assertEquals(Exchange.Verdict.NOT_CORRECT, exchange.verdict());
    assertEquals(null, exchange.workerId());
  }

  @Test
  void errorReplyIsAnError() {
    Exchange exchange =
        new Exchange(
            xyz3(), new Decoded.Ok(new Packet.Error("3", "timeout", "the router did not answer")));
    assertEquals(Exchange.Verdict.ERROR, exchange.verdict());
    assertEquals(null, exchange.workerId());
  }

  /**
   * A reply that does not decode is no error the proxy reported, even when the refusal carries an
   * error code: it does not verify, and is counted as NOT correct rather than as an error.
   */
  @Test
  void unreadableReplyIsNotCorrectRatherThanAnError() {
    Exchange exchange =
        new Exchange(
            xyz3(), new Decoded.Refused("3", ErrorCode.MISSING_FIELD, "missing field \"destid\""));
    assertEquals(Exchange.Verdict.NOT_CORRECT, exchange.verdict());
    assertEquals(null, exchange.workerId());
    assertEquals(null, exchange.packet());
  }

  @Test
  void noReplyIsMissing() {
    Exchange exchange = new Exchange(xyz3(), null);
    assertEquals(Exchange.Verdict.MISSING, exchange.verdict());
    assertEquals(null, exchange.workerId());
  }
}
