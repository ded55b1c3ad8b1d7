package io.homing.store;

import java.util.Arrays;
import java.util.Objects;

/**
 * One change a committed batch made to the store's own data — a value put, or a key deleted — as
 * it travels through the store's changelog, so that another instance can rebuild the same store
 * with {@link OfflineStore#restore}. The indexes by time (message TTLs, message ids to forget) are
 * not logged: restoring derives them from the values.
 *
 * <p>On the changelog a change is one record: key {@code [family][store key]}, value the stored
 * value, or none (a tombstone) for a delete; log compaction then keeps the newest change per key,
 * which is all a restore needs.
 *
 * @param family which part of the store the key belongs to
 * @param key the key inside that family
 * @param value the new value; {@code null} when the key was deleted
 */
public record StoreChange(Family family, byte[] key, byte[] value) {
  /** The logged parts of the store. The codes are part of the changelog format: never reuse one. */
  public enum Family {
    MESSAGES(1),
    USERS(2),
    IDS(3),
    OFFSETS(4),
    PUSH(5);

    private final byte code;

    Family(int code) {
      this.code = (byte) code;
    }

    static Family of(byte code) {
      for (Family family : values()) {
        if (family.code == code) {
          return family;
        }
      }
      throw new IllegalArgumentException("unknown store family code " + code);
    }
  }

  public StoreChange {
    Objects.requireNonNull(family, "family");
    Objects.requireNonNull(key, "key");
  }

  /** Whether the change deletes its key. */
  public boolean isDelete() {
    return value == null;
  }

  /** The changelog record key: the family's code, then the store key. */
  public byte[] changelogKey() {
    byte[] encoded = new byte[key.length + 1];
    encoded[0] = family.code;
    System.arraycopy(key, 0, encoded, 1, key.length);
    return encoded;
  }

  /**
   * The change a changelog record carries.
   *
   * @throws IllegalArgumentException when the key is not one {@link #changelogKey()} produces
   */
  public static StoreChange fromChangelog(byte[] changelogKey, byte[] value) {
    if (changelogKey == null || changelogKey.length < 2) {
      throw new IllegalArgumentException("changelog key of "
          + (changelogKey == null ? "null" : changelogKey.length + " bytes")
          + " (expected: a family code and a store key)");
    }
    return new StoreChange(Family.of(changelogKey[0]),
        Arrays.copyOfRange(changelogKey, 1, changelogKey.length), value);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof StoreChange other && family == other.family
        && Arrays.equals(key, other.key) && Arrays.equals(value, other.value);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * family.hashCode() + Arrays.hashCode(key)) + Arrays.hashCode(value);
  }

  @Override
  public String toString() {
    return "StoreChange[" + family + " " + Arrays.toString(key)
        + (value == null ? " deleted]" : " = " + value.length + " bytes]");
  }
}
