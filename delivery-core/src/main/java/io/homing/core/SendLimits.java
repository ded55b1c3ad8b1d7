package io.homing.core;

/**
 * How fast one sender may call the Send API, per core instance: calls per second, and recipients
 * per second summed over its calls, each with a burst. A call over either gets {@code
 * RESOURCE_EXHAUSTED} and nothing of it is sent. A sender is a key's name in the key file; without
 * keys, every caller is the one sender {@code anyone}.
 *
 * @param callsPerSecond calls one sender may make per second, sustained
 * @param callBurst calls one sender may make at once above the sustained rate
 * @param recipientsPerSecond recipients one sender may name per second, sustained
 * @param recipientBurst recipients one sender may name at once; at least the most one call may
 *     name, so that every valid call can pass
 */
public record SendLimits(
    int callsPerSecond, int callBurst, int recipientsPerSecond, int recipientBurst) {
  /** The most recipients one call may name. */
  public static final int MAX_RECIPIENTS = 1000;

  /** 10,000 calls (a burst of 20,000) and 100,000 recipients (200,000) per second per sender. */
  public static SendLimits defaults() {
    return new SendLimits(10_000, 20_000, 100_000, 200_000);
  }

  public SendLimits {
    requireAtLeast("callsPerSecond", callsPerSecond, 1);
    requireAtLeast("callBurst", callBurst, 1);
    requireAtLeast("recipientsPerSecond", recipientsPerSecond, 1);
    requireAtLeast("recipientBurst", recipientBurst, MAX_RECIPIENTS);
  }

  private static void requireAtLeast(String name, int value, int least) {
    if (value < least) {
      throw new IllegalArgumentException(name + ": " + value + " (expected: >= " + least + ")");
    }
  }
}
