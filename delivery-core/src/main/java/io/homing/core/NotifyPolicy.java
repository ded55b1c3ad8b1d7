package io.homing.core;

import java.time.Duration;

/**
 * When core asks the notifier to notify a user none of whose devices is connected
 * (docs/push.md).
 *
 * @param delay how long after a message is queued for such a user core waits before deciding: a
 *     device that connects (or a connection Redis shows) meanwhile gets the message, and no
 *     notification goes out. 0 turns notifications off.
 * @param interval the least time between two notifications of one user: messages queued sooner
 *     are collapsed into the next one
 */
public record NotifyPolicy(Duration delay, Duration interval) {
  /** Defaults for production: decide 2 s after the message, notify a user at most every 30 s. */
  public static NotifyPolicy defaults() {
    return new NotifyPolicy(Duration.ofSeconds(2), Duration.ofSeconds(30));
  }

  public NotifyPolicy {
    if (delay == null || delay.isNegative()) {
      throw new IllegalArgumentException("delay: " + delay + " (expected: >= 0)");
    }
    if (interval == null || interval.isNegative()) {
      throw new IllegalArgumentException("interval: " + interval + " (expected: >= 0)");
    }
  }

  /** Whether core asks for notifications at all. */
  public boolean enabled() {
    return !delay.isZero();
  }
}
