package io.homing.notifier;

import io.homing.api.PushTargets;
import io.homing.api.v1.Notification;
import io.homing.api.v1.NotificationRequest;
import io.homing.notifier.push.PushContent;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * What a request's notification says: the message's own settings, the policy's defaults where it
 * set none, cut to the limits a producer writing to Kafka may have exceeded.
 */
final class Contents {
  private Contents() {}

  static PushContent of(NotificationRequest request, NotifierPolicy policy) {
    Notification n = request.getNotification();
    Notification.Mode mode = n.getMode() == Notification.Mode.MODE_DEFAULT
        || n.getMode() == Notification.Mode.NONE ? policy.defaultMode() : n.getMode();
    String title = n.getTitle().isEmpty() ? policy.defaultTitle() : n.getTitle();
    String body = n.getBody().isEmpty()
        ? policy.defaultBody().replace("{waiting}", Long.toString(request.getWaiting()))
        : n.getBody();
    Map<String, String> data = PushTargets.dataBytes(n.getDataMap()) <= PushTargets.MAX_DATA_BYTES
        ? new TreeMap<>(n.getDataMap()) : Map.of();
    // The same request — redelivered by Kafka, retried — is the same notification.
    String id = UUID.nameUUIDFromBytes((request.getUserId() + '\0' + request.getDeviceId() + '\0'
        + request.getSeq() + '\0' + request.getCreatedAtMs()).getBytes(StandardCharsets.UTF_8))
        .toString();
    return new PushContent(id, request.getUserId(), request.getDeviceId(), mode,
        cut(title, PushTargets.MAX_TITLE), cut(body, PushTargets.MAX_BODY), data,
        request.getWaiting(), request.getMessageId(), request.getSeq(), policy.collapseId(), 0);
  }

  /** The string, or its first {@code max - 1} characters and an ellipsis; never half a pair. */
  static String cut(String s, int max) {
    if (s.length() <= max) {
      return s;
    }
    int end = max - 1;
    if (Character.isHighSurrogate(s.charAt(end - 1))) {
      end--;
    }
    return s.substring(0, end) + "…";
  }
}
