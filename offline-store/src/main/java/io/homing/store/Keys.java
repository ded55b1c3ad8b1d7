package io.homing.store;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Byte layout of the store's keys.
 *
 * <pre>
 * messages: [u16 length of user id][user id, UTF-8][u64 seq, big-endian]  → homing.v1.Message
 * users:    [user id, UTF-8]                                               → homing.store.v1.UserState
 * offsets:  [topic, UTF-8]['/'][partition, decimal]                        → u64 offset, big-endian
 *           "#changelog" (no topic name has a '#')  → u64 next changelog offset to restore, u64 as of (ms)
 *           "#message-clock"                        → u64 newest message record time applied (ms)
 * ids:      [u16 length of user id][user id][message id, UTF-8]            → u64 accepted at (ms),
 *           u64 seq, u64 expires at (ms), u8 fate ({@link AcceptedId}); older stores wrote the
 *           first u64 alone
 * id-expiry:[u64 accepted at (ms)][u16 length of user id][user id][message id] → (empty)
 * expiry:   [u64 expires at (ms)][messages key]                            → (empty)
 * push:     [u16 length of user id][user id][device id, UTF-8]             → homing.store.v1.PushRegistration
 * </pre>
 *
 * <p>Big-endian seq makes RocksDB's byte order the seq order, so a user's queue is one contiguous,
 * ordered key range.
 */
final class Keys {
  private static final int MAX_USER_ID_BYTES = 0xFFFF;

  /** Where the store's changelog position is kept, in {@code offsets}. */
  static final byte[] CHANGELOG_POSITION = "#changelog".getBytes(StandardCharsets.UTF_8);

  /** Where the newest message record time is kept, in {@code offsets}; it is logged. */
  static final byte[] MESSAGE_CLOCK = "#message-clock".getBytes(StandardCharsets.UTF_8);

  private Keys() {}

  static byte[] message(String userId, long seq) {
    byte[] user = userBytes(userId);
    return ByteBuffer.allocate(2 + user.length + 8)
        .putShort((short) user.length)
        .put(user)
        .putLong(seq)
        .array();
  }

  /** The first key after every message key of the user. */
  static byte[] messageUpperBound(String userId) {
    return message(userId, -1L); // 0xFFFF_FFFF_FFFF_FFFF sorts last
  }

  static long seqOf(byte[] messageKey) {
    return ByteBuffer.wrap(messageKey, messageKey.length - 8, 8).getLong();
  }

  static byte[] id(String userId, String messageId) {
    byte[] user = userBytes(userId);
    byte[] id = messageId.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(2 + user.length + id.length)
        .putShort((short) user.length)
        .put(user)
        .put(id)
        .array();
  }

  static byte[] push(String userId, String deviceId) {
    return id(userId, deviceId); // the same layout: the user's, then a string of its own
  }

  /** The first key after every push key of the user: no UTF-8 byte is 0xFF. */
  static byte[] pushUpperBound(String userId) {
    byte[] prefix = push(userId, "");
    byte[] bound = Arrays.copyOf(prefix, prefix.length + 1);
    bound[prefix.length] = (byte) 0xFF;
    return bound;
  }

  /** The device id of a push key. */
  static String deviceOfPush(byte[] pushKey) {
    int length = userLength(pushKey);
    return new String(pushKey, 2 + length, pushKey.length - 2 - length, StandardCharsets.UTF_8);
  }

  static byte[] idExpiry(long atMs, byte[] idKey) {
    return ByteBuffer.allocate(8 + idKey.length).putLong(atMs).put(idKey).array();
  }

  static byte[] expiry(long atMs, byte[] messageKey) {
    return ByteBuffer.allocate(8 + messageKey.length).putLong(atMs).put(messageKey).array();
  }

  /** A messages key for a log line: its user and seq, or its bytes when it is no such key. */
  static String describeMessage(byte[] messageKey) {
    if (messageKey.length < 2 + 8
        || userLength(messageKey) != messageKey.length - 10) {
      return "key " + Arrays.toString(messageKey);
    }
    return "user " + userOf(messageKey) + " seq " + seqOf(messageKey);
  }

  /** The user id of a messages key. */
  static String userOf(byte[] messageKey) {
    return new String(messageKey, 2, userLength(messageKey), StandardCharsets.UTF_8);
  }

  /** The u16 length of the user id a messages, ids or push key starts with. */
  private static int userLength(byte[] key) {
    return ((key[0] & 0xFF) << 8) | (key[1] & 0xFF);
  }

  /** The ids key inside an id-expiry key. */
  static byte[] idOfExpiry(byte[] expiryKey) {
    return Arrays.copyOfRange(expiryKey, 8, expiryKey.length);
  }

  static byte[] user(String userId) {
    return userBytes(userId);
  }

  static byte[] offset(String topic, int partition) {
    return (topic + '/' + partition).getBytes(StandardCharsets.UTF_8);
  }

  static byte[] longValue(long value) {
    return ByteBuffer.allocate(8).putLong(value).array();
  }

  static byte[] acceptedId(AcceptedId id) {
    return ByteBuffer.allocate(25).putLong(id.acceptedAtMs()).putLong(id.seq())
        .putLong(id.expiresAtMs()).put(id.fate().code).array();
  }

  /** An ids value: all of it, or the time alone as older stores wrote it. */
  static AcceptedId acceptedId(byte[] value) {
    long at = longOf(value);
    if (value.length < 25) {
      return new AcceptedId(at, 0, 0, AcceptedId.Fate.NONE);
    }
    ByteBuffer b = ByteBuffer.wrap(value);
    return new AcceptedId(b.getLong(0), b.getLong(8), b.getLong(16),
        AcceptedId.Fate.of(b.get(24)));
  }

  static byte[] changelogPosition(long nextOffset, long atMs) {
    return ByteBuffer.allocate(16).putLong(nextOffset).putLong(atMs).array();
  }

  /** The u64 a value starts with; throws StoreException when it is shorter. */
  static long longOf(byte[] value) {
    if (value.length < Long.BYTES) {
      throw new StoreException("corrupt value of " + value.length + " bytes (expected: a u64, "
          + Long.BYTES + " bytes)");
    }
    return ByteBuffer.wrap(value).getLong();
  }

  private static byte[] userBytes(String userId) {
    byte[] bytes = userId.getBytes(StandardCharsets.UTF_8);
    if (bytes.length == 0 || bytes.length > MAX_USER_ID_BYTES) {
      throw new IllegalArgumentException(
          "userId: " + bytes.length + " bytes (expected: 1.." + MAX_USER_ID_BYTES + ")");
    }
    return bytes;
  }
}
