package io.homing.notifier;

import io.homing.api.v1.Notification;
import java.time.Duration;
import java.util.Objects;

/**
 * How the notifier sends: what a notification says when its message set nothing, and how hard it
 * tries.
 *
 * @param defaultMode the mode of a notification whose message named none (ALERT or SILENT)
 * @param defaultTitle the title of an ALERT that has none
 * @param defaultBody the body of an ALERT that has none; {@code {waiting}} stands for the number of
 *     waiting messages
 * @param collapseId the collapse id every notification carries, so a device shows the newest only
 * @param maxAge a request older than this (since core made it) is dropped, not sent late; also
 *     where retries stop
 * @param minBackoff the wait before the first retry; doubled per retry, with jitter
 * @param maxBackoff the longest wait between retries
 * @param maxInFlight requests taken from Kafka and not finished, beyond which reading pauses
 */
public record NotifierPolicy(
    Notification.Mode defaultMode,
    String defaultTitle,
    String defaultBody,
    String collapseId,
    Duration maxAge,
    Duration minBackoff,
    Duration maxBackoff,
    int maxInFlight) {

  public static NotifierPolicy defaults() {
    return new NotifierPolicy(Notification.Mode.ALERT, "New messages",
        "{waiting} new message(s)", "homing", Duration.ofMinutes(10),
        Duration.ofSeconds(1), Duration.ofMinutes(1), 10_000);
  }

  public NotifierPolicy {
    if (defaultMode != Notification.Mode.ALERT && defaultMode != Notification.Mode.SILENT) {
      throw new IllegalArgumentException("defaultMode: " + defaultMode
          + " (expected: ALERT or SILENT)");
    }
    Objects.requireNonNull(defaultTitle, "defaultTitle");
    Objects.requireNonNull(defaultBody, "defaultBody");
    if (collapseId == null || collapseId.isEmpty() || collapseId.length() > 64) {
      throw new IllegalArgumentException("collapseId: '" + collapseId
          + "' (expected: 1..64 characters, APNs' limit)");
    }
    requirePositive("maxAge", maxAge);
    requirePositive("minBackoff", minBackoff);
    requirePositive("maxBackoff", maxBackoff);
    if (maxBackoff.compareTo(minBackoff) < 0) {
      throw new IllegalArgumentException("maxBackoff: " + maxBackoff + " (expected: >= "
          + minBackoff + ")");
    }
    if (maxInFlight < 1) {
      throw new IllegalArgumentException("maxInFlight: " + maxInFlight + " (expected: >= 1)");
    }
  }

  private static void requirePositive(String name, Duration value) {
    if (value == null || value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(name + ": " + value + " (expected: > 0)");
    }
  }
}
