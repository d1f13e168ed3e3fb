package revproxy.client;

import akka.util.ByteString;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemNotFoundException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import revproxy.protocol.Decoded;
import revproxy.protocol.Packet;
import revproxy.protocol.PacketCodec;

/**
 * One packet file: a type "0" request as one JSON object. The client sends the file's bytes as
 * written (numbers, payloadsize, escapes and all) and checks the reply against the parsed request.
 */
public record PacketFile(String name, ByteString bytes, Packet.Request request) {

  /** Where the sample packets live inside the jar. */
  static final String BUILT_IN_FOLDER = "packets";

  /** Parses one file's bytes; a file that is not one valid request is refused with the reason. */
  public static PacketFile parse(String name, byte[] content) {
    ByteString bytes = ByteString.fromArray(content);
    Decoded decoded = PacketCodec.decodeRequest(bytes);
    if (decoded instanceof Decoded.Ok ok && ok.packet() instanceof Packet.Request request) {
      return new PacketFile(name, trimmed(bytes), request);
    }
    // decodeRequest also accepts registrations, which the proxy takes on the same port.
    String reason =
        decoded instanceof Decoded.Refused refused
            ? refused.message()
            : "packet type \"1\" is not a type \"0\" request";
    throw new IllegalArgumentException(
        "packet file " + name + " is not a valid request: " + reason);
  }

  /** Loads files, and every *.json directly inside given directories, in natural name order. */
  public static List<PacketFile> load(List<Path> paths) {
    List<PacketFile> packets = new ArrayList<>();
    for (Path path : paths) {
      if (Files.isDirectory(path)) {
        for (Path file : jsonFilesIn(path)) {
          packets.add(read(file, file.toString()));
        }
      } else if (Files.isRegularFile(path)) {
        packets.add(read(path, path.toString()));
      } else {
        throw new IllegalArgumentException("no such packet file or directory: " + path);
      }
    }
    if (packets.isEmpty()) {
      throw new IllegalArgumentException("no *.json packet files found in " + paths);
    }
    return packets;
  }

  /** The sample packets bundled in the jar (a copy of the repository's packets/ folder). */
  public static List<PacketFile> builtIn() {
    URL folder = PacketFile.class.getClassLoader().getResource(BUILT_IN_FOLDER);
    if (folder == null) {
      throw new IllegalStateException("the sample packets are missing from the classpath");
    }
    try {
      URI uri = folder.toURI();
      if ("jar".equals(uri.getScheme())) {
        try (FileSystem jar = jarFileSystem(uri)) {
          return readAll(jar.getPath(BUILT_IN_FOLDER));
        }
      }
      return readAll(Path.of(uri));
    } catch (IOException | URISyntaxException e) {
      throw new IllegalStateException("cannot read the sample packets: " + e.getMessage(), e);
    }
  }

  private static FileSystem jarFileSystem(URI uri) throws IOException {
    try {
      FileSystems.getFileSystem(uri).close();
    } catch (FileSystemNotFoundException notOpenYet) {
      // the usual case: nobody has opened the jar as a file system
    }
    return FileSystems.newFileSystem(uri, Map.of());
  }

  private static List<PacketFile> readAll(Path folder) throws IOException {
    List<PacketFile> packets = new ArrayList<>();
    for (Path file : jsonFilesIn(folder)) {
      packets.add(read(file, BUILT_IN_FOLDER + "/" + file.getFileName()));
    }
    return packets;
  }

  private static List<Path> jsonFilesIn(Path folder) {
    try (Stream<Path> files = Files.list(folder)) {
      return files
          .filter(file -> file.getFileName().toString().endsWith(".json"))
          .sorted(Comparator.comparing(PacketFile::numericPrefix).thenComparing(Path::toString))
          .toList();
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot list " + folder + ": " + e.getMessage(), e);
    }
  }

  /** "10.json" sorts after "9.json". */
  private static long numericPrefix(Path file) {
    String name = file.getFileName().toString();
    int end = 0;
    while (end < name.length() && end < 18 && Character.isDigit(name.charAt(end))) {
      end++;
    }
    return end == 0 ? Long.MAX_VALUE : Long.parseLong(name.substring(0, end));
  }

  private static PacketFile read(Path file, String name) {
    try (InputStream in = Files.newInputStream(file)) {
      return parse(name, in.readAllBytes());
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + name + ": " + e.getMessage(), e);
    }
  }

  private static ByteString trimmed(ByteString bytes) {
    int start = 0;
    int end = bytes.length();
    while (start < end && isJsonWhitespace(bytes.apply(start))) {
      start++;
    }
    while (end > start && isJsonWhitespace(bytes.apply(end - 1))) {
      end--;
    }
    return bytes.slice(start, end);
  }

  private static boolean isJsonWhitespace(byte b) {
    return b == ' ' || b == '\n' || b == '\r' || b == '\t';
  }
}
