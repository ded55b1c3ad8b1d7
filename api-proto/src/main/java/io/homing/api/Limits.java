package io.homing.api;

/** Limits every component enforces the same way, wherever an id enters the system. */
public final class Limits {
  /**
   * The longest user, device or message id, in characters. Ids are stored in keys (Redis,
   * RocksDB, Kafka record keys), so they stay short.
   */
  public static final int MAX_ID_LENGTH = 256;

  /** What {@link #isValidId} asks of an id, for the messages that refuse one. */
  public static final String ID_RULE =
      "1.." + MAX_ID_LENGTH + " characters, not blank, no control characters";

  private Limits() {}

  /**
   * Whether {@code id} is a usable user, device or message id: not blank, not too long, and
   * without control characters (C0, DEL, C1), which would forge lines in logs and in the
   * line-based formats operators read ids in.
   */
  public static boolean isValidId(String id) {
    if (id == null || id.isBlank() || id.length() > MAX_ID_LENGTH) {
      return false;
    }
    for (int i = 0; i < id.length(); i++) {
      if (Character.isISOControl(id.charAt(i))) {
        return false;
      }
    }
    return true;
  }
}
