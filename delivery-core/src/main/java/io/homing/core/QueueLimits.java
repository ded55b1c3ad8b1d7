package io.homing.core;

/**
 * How much one user's queue may hold, and what happens to a message that does not fit. Either way
 * it is counted in metrics and logged, never silent.
 *
 * @param maxMessages the most messages queued for one user (all devices together)
 * @param maxBytes the most bytes of serialized messages queued for one user
 * @param whenFull what a new message meets when the queue is full
 */
public record QueueLimits(long maxMessages, long maxBytes, WhenFull whenFull) {
  /** What to do with a message for a user whose queue is full. */
  public enum WhenFull {
    /**
     * Refuse it: the Send API answers RESOURCE_EXHAUSTED (for a few seconds after core saw the
     * queue full), and a message written straight to Kafka is dropped and counted.
     */
    REJECT,
    /** Make room: delete the user's oldest messages, counted as dropped. */
    DROP_OLDEST
  }

  /** 10,000 messages or 64 MiB per user; new messages are refused when full. */
  public static QueueLimits defaults() {
    return new QueueLimits(10_000, 64L << 20, WhenFull.REJECT);
  }

  public QueueLimits {
    if (maxMessages < 1) {
      throw new IllegalArgumentException("maxMessages: " + maxMessages + " (expected: >= 1)");
    }
    if (maxBytes < 1) {
      throw new IllegalArgumentException("maxBytes: " + maxBytes + " (expected: >= 1)");
    }
    if (whenFull == null) {
      throw new IllegalArgumentException("whenFull: null");
    }
  }
}
