package revproxy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

/** Raw sockets for end-to-end tests: what a client on the wire sends and sees. */
public final class TestSockets {

  private static final ObjectMapper JSON = new ObjectMapper();

  private TestSockets() {}

  /** A connection whose reads give up after 10 s, so a test cannot hang. */
  public static Socket connect(InetSocketAddress address) throws IOException {
    Socket socket = new Socket(address.getAddress(), address.getPort());
    socket.setSoTimeout(10_000);
    return socket;
  }

  /** A type "0" request in the original's json.dumps format. */
  public static String request(String srcid, String policy, String payload) {
    return "{\"type\": \"0\", \"srcid\": \"" + srcid + "\", \"privPoliId\": \"" + policy
        + "\", \"payload\": \"" + payload + "\"}";
  }

  /** Every back-to-back JSON object the stream delivers until it is closed. */
  public static List<JsonNode> readAll(InputStream in) throws IOException {
    List<JsonNode> replies = new ArrayList<>();
    try (MappingIterator<JsonNode> it = JSON.readerFor(JsonNode.class).readValues(in)) {
      while (it.hasNextValue()) {
        replies.add(it.nextValue());
      }
    }
    return replies;
  }
}
