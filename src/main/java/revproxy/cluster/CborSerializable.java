package revproxy.cluster;

/**
 * Marker for every message that may cross a node boundary. Bound to Akka's {@code jackson-cbor}
 * serializer in {@code revproxy-akka.conf}; Java serialization stays off.
 */
public interface CborSerializable {}
