package io.homing.core;

import java.time.Duration;

/**
 * How hard core tries to get each message to each device, and how it recognises a message it has
 * already accepted.
 *
 * @param ackTimeout how long a device may leave the oldest message sent to it unacked before core
 *     sends it again (and everything after it that is in flight)
 * @param maxRedeliveries resends of the same message before core gives up on the connection and
 *     asks its edge to close it; the device reconnects and resumes. Each resend waits twice as long
 *     as the one before.
 * @param inflightWindow the most messages sent to a device and not yet acked; the rest wait in the
 *     store and follow as acks come in
 * @param dedupWindow how long a producer's message id stays an idempotency key: a message with the
 *     id of one already accepted for the same user within this window is dropped
 */
public record DeliveryPolicy(
    Duration ackTimeout, int maxRedeliveries, int inflightWindow, Duration dedupWindow) {

  /** Defaults for production: 10 s, 5 resends (about 5 minutes in all), 1,000 in flight, 10 min. */
  public static DeliveryPolicy defaults() {
    return new DeliveryPolicy(Duration.ofSeconds(10), 5, 1000, Duration.ofMinutes(10));
  }

  public DeliveryPolicy {
    if (ackTimeout == null || ackTimeout.isNegative() || ackTimeout.isZero()) {
      throw new IllegalArgumentException("ackTimeout: " + ackTimeout + " (expected: > 0)");
    }
    if (maxRedeliveries < 0) {
      throw new IllegalArgumentException(
          "maxRedeliveries: " + maxRedeliveries + " (expected: >= 0)");
    }
    if (inflightWindow < 1) {
      throw new IllegalArgumentException(
          "inflightWindow: " + inflightWindow + " (expected: >= 1)");
    }
    if (dedupWindow == null || dedupWindow.isNegative()) {
      throw new IllegalArgumentException("dedupWindow: " + dedupWindow + " (expected: >= 0)");
    }
  }

  /** How long to wait for an ack after {@code resends} resends: the timeout, doubled per resend. */
  public Duration ackWait(int resends) {
    return ackTimeout.multipliedBy(1L << Math.min(resends, 16));
  }
}
