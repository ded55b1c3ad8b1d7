package io.homing.notifier.push;

import io.homing.api.v1.Notification;
import java.util.Map;
import java.util.UUID;

/** Notifications for the provider tests. */
final class PushContents {
  private PushContents() {}

  /** An ALERT about message m-7 (seq 7), 3 waiting, data {room: blue}, collapse id "u1". */
  static PushContent alert(long expiresAtMs) {
    return new PushContent(UUID.randomUUID().toString(), "u1", "d1", Notification.Mode.ALERT,
        "New message", "3 messages are waiting", Map.of("room", "blue"), 3, "m-7", 7, "u1",
        expiresAtMs);
  }

  /** The same as SILENT, without an expiry. */
  static PushContent silent() {
    return new PushContent(UUID.randomUUID().toString(), "u1", "d1", Notification.Mode.SILENT,
        "New message", "3 messages are waiting", Map.of("room", "blue"), 3, "m-7", 7, "u1", 0);
  }
}
