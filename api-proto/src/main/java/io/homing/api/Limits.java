package io.homing.api;

/** Limits every component enforces the same way, wherever an id enters the system. */
public final class Limits {
  /**
   * The longest user, device or message id, in characters. Ids are stored in keys (Redis,
   * RocksDB, Kafka record keys), so they stay short.
   */
  public static final int MAX_ID_LENGTH = 256;

  private Limits() {}

  /** Whether {@code id} is a usable user, device or message id: not blank, not too long. */
  public static boolean isValidId(String id) {
    return id != null && !id.isBlank() && id.length() <= MAX_ID_LENGTH;
  }
}
