package revproxy.routee;

import akka.actor.ExtendedActorSystem;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorRefResolver;
import akka.actor.typed.javadsl.Adapter;
import akka.serialization.ByteBufferSerializer;
import akka.serialization.SerializerWithStringManifest;
import java.io.NotSerializableException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The wire form of the {@link Routee} messages, the only ones on the hot path between nodes: a
 * compact binary layout instead of Jackson CBOR (which writes every field name and builds a parser
 * per message). Artery writes it straight into its envelope buffer ({@link ByteBufferSerializer}).
 *
 * <p>Layout, by manifest: counts and lengths as unsigned LEB128 varints, request ids as 8 bytes
 * (they start at a random long), strings as a varint byte length and UTF-8, a SHA-1 hex of 40
 * lowercase digits as its 20 bytes. Actor refs as their serialization format, written once per
 * message: a message names each ref by its index in the order of first use.
 *
 * <ul>
 *   <li>{@code h} {@link Routee.Hash}: request id, srcid, payload, reply-to;
 *   <li>{@code b} {@link Routee.HashBatch}: count, then each {@code Hash};
 *   <li>{@code r} {@link Routee.Hashed}: request id, worker id, hash;
 *   <li>{@code u} {@link Routee.Unavailable}: request id, worker id, reason;
 *   <li>{@code a} {@link Routee.Answers}: count, then each answer as a tag ({@code r} or {@code u})
 *       and its fields.
 * </ul>
 *
 * <p>Resolving a ref from its string costs a parse and a lookup; the router sends every request
 * with the same reply-to, so both directions are cached (bounded: cleared when full).
 */
public final class RouteeSerializer extends SerializerWithStringManifest
    implements ByteBufferSerializer {

  /** Akka reserves 0 to 40. */
  public static final int IDENTIFIER = 4713;

  private static final String HASH = "h";
  private static final String BATCH = "b";
  private static final String HASHED = "r";
  private static final String UNAVAILABLE = "u";
  private static final String ANSWERS = "a";
  private static final byte HEX_HASH = 1;
  private static final byte TEXT_HASH = 0;
  private static final int MAX_CACHED_REFS = 1024;

  private final ActorRefResolver resolver;
  private final ConcurrentHashMap<ActorRef<?>, String> formatted = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, ActorRef<?>> resolved = new ConcurrentHashMap<>();

  public RouteeSerializer(ExtendedActorSystem system) {
    this.resolver = ActorRefResolver.get(Adapter.toTyped(system));
  }

  @Override
  public int identifier() {
    return IDENTIFIER;
  }

  @Override
  public String manifest(Object message) {
    if (message instanceof Routee.Hash) {
      return HASH;
    } else if (message instanceof Routee.HashBatch) {
      return BATCH;
    } else if (message instanceof Routee.Hashed) {
      return HASHED;
    } else if (message instanceof Routee.Unavailable) {
      return UNAVAILABLE;
    } else if (message instanceof Routee.Answers) {
      return ANSWERS;
    }
    throw new IllegalArgumentException("not a routee message: " + message.getClass().getName());
  }

  @Override
  public byte[] toBinary(Object message) {
    ByteBuffer buffer = ByteBuffer.allocate(bound(message));
    toBinary(message, buffer);
    byte[] bytes = new byte[buffer.position()];
    buffer.flip().get(bytes);
    return bytes;
  }

  @Override
  public void toBinary(Object message, ByteBuffer buffer) {
    Writer out = new Writer(buffer);
    if (message instanceof Routee.Hash hash) {
      out.hash(hash);
    } else if (message instanceof Routee.HashBatch batch) {
      out.varint(batch.hashes().size());
      for (Routee.Hash hash : batch.hashes()) {
        out.hash(hash);
      }
    } else if (message instanceof Routee.Answers answers) {
      out.varint(answers.answers().size());
      for (Routee.Answer answer : answers.answers()) {
        out.buffer.put((byte) (answer instanceof Routee.Hashed ? 'r' : 'u'));
        out.answer(answer);
      }
    } else if (message instanceof Routee.Answer answer) {
      out.answer(answer);
    } else {
      throw new IllegalArgumentException("not a routee message: " + message.getClass().getName());
    }
  }

  @Override
  public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
    return fromBinary(ByteBuffer.wrap(bytes), manifest);
  }

  @Override
  public Object fromBinary(ByteBuffer buffer, String manifest) throws NotSerializableException {
    Reader in = new Reader(buffer);
    switch (manifest) {
      case HASH:
        return in.hash();
      case BATCH:
        {
          int count = in.count();
          List<Routee.Hash> hashes = new ArrayList<>(count);
          for (int i = 0; i < count; i++) {
            hashes.add(in.hash());
          }
          return new Routee.HashBatch(hashes);
        }
      case HASHED:
        return in.hashed();
      case UNAVAILABLE:
        return in.unavailable();
      case ANSWERS:
        {
          int count = in.count();
          List<Routee.Answer> answers = new ArrayList<>(count);
          for (int i = 0; i < count; i++) {
            byte tag = buffer.get();
            if (tag == 'r') {
              answers.add(in.hashed());
            } else if (tag == 'u') {
              answers.add(in.unavailable());
            } else {
              throw new NotSerializableException("unknown answer tag " + tag);
            }
          }
          return new Routee.Answers(answers);
        }
      default:
        throw new NotSerializableException("unknown routee manifest \"" + manifest + "\"");
    }
  }

  /** An upper bound of the bytes {@code message} takes. */
  private int bound(Object message) {
    if (message instanceof Routee.Hash hash) {
      return hashBound(hash);
    } else if (message instanceof Routee.HashBatch batch) {
      int bytes = 5;
      for (Routee.Hash hash : batch.hashes()) {
        bytes += hashBound(hash);
      }
      return bytes;
    } else if (message instanceof Routee.Answers answers) {
      int bytes = 5;
      for (Routee.Answer answer : answers.answers()) {
        bytes += 1 + answerBound(answer);
      }
      return bytes;
    } else if (message instanceof Routee.Answer answer) {
      return answerBound(answer);
    }
    throw new IllegalArgumentException("not a routee message: " + message.getClass().getName());
  }

  private int hashBound(Routee.Hash hash) {
    return 10
        + stringBound(hash.srcid())
        + stringBound(hash.payload())
        + 5
        + stringBound(format(hash.replyTo()));
  }

  private static int answerBound(Routee.Answer answer) {
    if (answer instanceof Routee.Hashed hashed) {
      return 10 + stringBound(hashed.workerId()) + 1 + stringBound(hashed.payloadHash());
    }
    Routee.Unavailable unavailable = (Routee.Unavailable) answer;
    return 10 + stringBound(unavailable.workerId()) + stringBound(unavailable.reason());
  }

  private static int stringBound(String s) {
    return 5 + 3 * s.length();
  }

  private String format(ActorRef<?> ref) {
    String path = formatted.get(ref);
    if (path == null) {
      path = resolver.toSerializationFormat(ref);
      if (formatted.size() >= MAX_CACHED_REFS) {
        formatted.clear();
      }
      formatted.put(ref, path);
    }
    return path;
  }

  private <T> ActorRef<T> resolve(String path) {
    ActorRef<?> ref = resolved.get(path);
    if (ref == null) {
      ref = resolver.resolveActorRef(path);
      if (resolved.size() >= MAX_CACHED_REFS) {
        resolved.clear();
      }
      resolved.put(path, ref);
    }
    @SuppressWarnings("unchecked")
    ActorRef<T> typed = (ActorRef<T>) ref;
    return typed;
  }

  /** Writes one message; refs by index after their first use. */
  private final class Writer {
    final ByteBuffer buffer;
    private List<ActorRef<?>> refs;

    Writer(ByteBuffer buffer) {
      this.buffer = buffer;
    }

    void hash(Routee.Hash hash) {
      buffer.putLong(hash.requestId());
      string(hash.srcid());
      string(hash.payload());
      ref(hash.replyTo());
    }

    void answer(Routee.Answer answer) {
      if (answer instanceof Routee.Hashed hashed) {
        buffer.putLong(hashed.requestId());
        string(hashed.workerId());
        hexHash(hashed.payloadHash());
      } else {
        Routee.Unavailable unavailable = (Routee.Unavailable) answer;
        buffer.putLong(unavailable.requestId());
        string(unavailable.workerId());
        string(unavailable.reason());
      }
    }

    /** 0 and the ref's path for a new ref, else its index + 1. */
    void ref(ActorRef<?> ref) {
      if (refs == null) {
        refs = new ArrayList<>(1);
      }
      int index = refs.indexOf(ref);
      if (index >= 0) {
        varint(index + 1);
      } else {
        refs.add(ref);
        varint(0);
        string(format(ref));
      }
    }

    void hexHash(String hex) {
      if (isLowerHex40(hex)) {
        buffer.put(HEX_HASH);
        for (int i = 0; i < 40; i += 2) {
          buffer.put(
              (byte)
                  ((Character.digit(hex.charAt(i), 16) << 4)
                      | Character.digit(hex.charAt(i + 1), 16)));
        }
      } else {
        buffer.put(TEXT_HASH);
        string(hex);
      }
    }

    void string(String s) {
      int length = s.length();
      boolean ascii = true;
      for (int i = 0; i < length; i++) {
        if (s.charAt(i) >= 0x80) {
          ascii = false;
          break;
        }
      }
      if (ascii) {
        varint(length);
        for (int i = 0; i < length; i++) {
          buffer.put((byte) s.charAt(i));
        }
      } else {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        varint(utf8.length);
        buffer.put(utf8);
      }
    }

    void varint(int value) {
      varlong(value & 0xFFFFFFFFL);
    }

    void varlong(long value) {
      while ((value & ~0x7FL) != 0) {
        buffer.put((byte) ((value & 0x7F) | 0x80));
        value >>>= 7;
      }
      buffer.put((byte) value);
    }
  }

  /** Reads one message; refs by index after their first use. */
  private final class Reader {
    private final ByteBuffer buffer;
    private List<ActorRef<Routee.Reply>> refs;

    Reader(ByteBuffer buffer) {
      this.buffer = buffer;
    }

    Routee.Hash hash() throws NotSerializableException {
      long requestId = buffer.getLong();
      String srcid = string();
      String payload = string();
      return new Routee.Hash(requestId, srcid, payload, ref());
    }

    Routee.Hashed hashed() throws NotSerializableException {
      long requestId = buffer.getLong();
      String workerId = string();
      return new Routee.Hashed(requestId, workerId, hexHash());
    }

    Routee.Unavailable unavailable() throws NotSerializableException {
      long requestId = buffer.getLong();
      String workerId = string();
      return new Routee.Unavailable(requestId, workerId, string());
    }

    ActorRef<Routee.Reply> ref() throws NotSerializableException {
      if (refs == null) {
        refs = new ArrayList<>(1);
      }
      int index = count();
      if (index == 0) {
        ActorRef<Routee.Reply> ref = resolve(string());
        refs.add(ref);
        return ref;
      }
      if (index > refs.size()) {
        throw new NotSerializableException("ref index " + index + " of " + refs.size());
      }
      return refs.get(index - 1);
    }

    String hexHash() throws NotSerializableException {
      byte kind = buffer.get();
      if (kind == TEXT_HASH) {
        return string();
      }
      char[] hex = new char[40];
      for (int i = 0; i < 20; i++) {
        int b = buffer.get() & 0xFF;
        hex[2 * i] = Character.forDigit(b >>> 4, 16);
        hex[2 * i + 1] = Character.forDigit(b & 0xF, 16);
      }
      return new String(hex);
    }

    String string() throws NotSerializableException {
      int length = count();
      if (length > buffer.remaining()) {
        throw new NotSerializableException(
            "string of " + length + " bytes, " + buffer.remaining() + " left");
      }
      if (buffer.hasArray()) {
        String s =
            new String(
                buffer.array(),
                buffer.arrayOffset() + buffer.position(),
                length,
                StandardCharsets.UTF_8);
        buffer.position(buffer.position() + length);
        return s;
      }
      byte[] bytes = new byte[length];
      buffer.get(bytes);
      return new String(bytes, StandardCharsets.UTF_8);
    }

    /** A non-negative int: a count, a length or an index. */
    int count() throws NotSerializableException {
      long value = varlong();
      if (value < 0 || value > Integer.MAX_VALUE) {
        throw new NotSerializableException("count out of range: " + value);
      }
      return (int) value;
    }

    long varlong() throws NotSerializableException {
      long value = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        byte b = buffer.get();
        value |= (long) (b & 0x7F) << shift;
        if (b >= 0) {
          return value;
        }
      }
      throw new NotSerializableException("varint longer than 10 bytes");
    }
  }

  private static boolean isLowerHex40(String s) {
    if (s.length() != 40) {
      return false;
    }
    for (int i = 0; i < 40; i++) {
      char c = s.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return true;
  }
}
