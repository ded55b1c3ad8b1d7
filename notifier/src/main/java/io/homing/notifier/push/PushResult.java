package io.homing.notifier.push;

import java.time.Duration;

/**
 * A provider's answer to one send.
 *
 * @param status what became of it
 * @param detail the provider and its reason, for logs and receipts, e.g. "fcm: UNREGISTERED"
 * @param retryAfter for {@link Status#RETRY}: how long the provider asked to wait (Retry-After),
 *     or null when it did not say
 * @param invalidSinceMs for {@link Status#INVALID_TARGET}: since when the provider knows the
 *     target invalid (APNs' timestamp), else when it said so
 */
public record PushResult(Status status, String detail, Duration retryAfter, long invalidSinceMs) {
  public enum Status {
    /** The provider accepted it. */
    SENT,
    /** Not now: a connection failure, a timeout, 429 or 5xx. Try again after a backoff. */
    RETRY,
    /** The target is no longer valid (unregistered token, 410 Gone): remove it. */
    INVALID_TARGET,
    /** Refused for good, not the target's fault (a bad payload, credentials): count, log, drop. */
    FAILED
  }

  public static PushResult sent(String detail) {
    return new PushResult(Status.SENT, detail, null, 0);
  }

  public static PushResult retry(String detail, Duration retryAfter) {
    return new PushResult(Status.RETRY, detail, retryAfter, 0);
  }

  public static PushResult invalidTarget(String detail, long invalidSinceMs) {
    return new PushResult(Status.INVALID_TARGET, detail, null, invalidSinceMs);
  }

  public static PushResult failed(String detail) {
    return new PushResult(Status.FAILED, detail, null, 0);
  }
}
