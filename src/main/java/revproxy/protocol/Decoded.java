package revproxy.protocol;

/**
 * What {@link PacketCodec} makes of one frame: a packet, or why it is not one the reader accepts.
 *
 * <p>A type "3" packet is a packet like any other, so the two must not share a type: a client
 * reading the proxy's replies tells an error the proxy sent ({@link Ok} of a {@link Packet.Error})
 * from bytes it could not read ({@link Refused}).
 */
public sealed interface Decoded {

  /** A well-formed packet of a type the reader accepts. */
  record Ok(Packet packet) implements Decoded {}

  /**
   * Not a packet the reader accepts, with a stable {@code code} and a readable {@code message};
   * {@code destId} is the sender's {@code srcid} when it could be read, else null.
   */
  record Refused(String destId, ErrorCode code, String message) implements Decoded {

    /** The type "3" answer for the sender. */
    public Packet.Error toError() {
      return Packet.Error.of(destId, code, message);
    }
  }
}
