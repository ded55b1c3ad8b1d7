package io.homing.store;

/**
 * What the store remembers of a message id it accepted for a user, for as long as it remembers
 * the id (the dedup window): when, under which seq, until when its TTL runs, and — when the
 * message left the queue other than by being acked — why.
 *
 * @param acceptedAtMs the message clock when it was accepted (what dedup compares)
 * @param seq the seq it took; 0 when a store of an older version remembered only the time
 * @param expiresAtMs when its TTL ends, 0 for never (or not recorded)
 * @param fate why it is not (or never was) queued, other than acks
 */
public record AcceptedId(long acceptedAtMs, long seq, long expiresAtMs, Fate fate) {
  /** What became of a message besides being queued and acked. Codes are stored: never reuse. */
  public enum Fate {
    /** Queued, or deleted once every device acked it. */
    NONE(0),
    /** Refused for a full queue. */
    REJECTED(1),
    /** Deleted when its TTL ran out. */
    EXPIRED(2),
    /** Deleted from a full queue for a newer message. */
    REMOVED(3);

    final byte code;

    Fate(int code) {
      this.code = (byte) code;
    }

    static Fate of(byte code) {
      for (Fate fate : values()) {
        if (fate.code == code) {
          return fate;
        }
      }
      return NONE; // written by a newer version: no fate this one knows
    }
  }
}
