package io.homing.core;

import java.time.Duration;

/**
 * Which devices of a user hold messages back: a message is deleted once every device the user
 * has acked it, but a device unseen for {@code retention} is forgotten, and so is the least
 * recently seen one when a user has more than {@code maxDevices}. A forgotten device that comes
 * back starts from what is still queued (it sees the jump in seq).
 *
 * @param maxDevices the most devices kept per user
 * @param retention how long a device may stay away (no connect, no ack) before it is forgotten
 */
public record DeviceLimits(int maxDevices, Duration retention) {
  /** 16 devices per user, forgotten after 30 days away. */
  public static DeviceLimits defaults() {
    return new DeviceLimits(16, Duration.ofDays(30));
  }

  public DeviceLimits {
    if (maxDevices < 1) {
      throw new IllegalArgumentException("maxDevices: " + maxDevices + " (expected: >= 1)");
    }
    if (retention == null || retention.isNegative() || retention.isZero()) {
      throw new IllegalArgumentException("retention: " + retention + " (expected: > 0)");
    }
  }
}
