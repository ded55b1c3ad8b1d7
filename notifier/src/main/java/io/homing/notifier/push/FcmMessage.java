package io.homing.notifier.push;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.homing.api.v1.Notification;

/**
 * The body of an FCM HTTP v1 {@code messages:send} request for one notification: the visible
 * part for ALERT only, the data (strings only) with Homing's keys, and the Android and APNs
 * options FCM passes on (collapse key, priority, time to live, content-available for SILENT).
 */
final class FcmMessage {
  private FcmMessage() {}

  static ObjectNode of(ObjectMapper json, String token, PushContent content, long nowMs) {
    boolean silent = content.mode() == Notification.Mode.SILENT;
    ObjectNode body = json.createObjectNode();
    ObjectNode message = body.putObject("message").put("token", token);
    if (!silent) {
      message.putObject("notification").put("title", content.title()).put("body", content.body());
    }
    ObjectNode data = message.putObject("data");
    content.data().forEach(data::put);
    data.put("homing_waiting", Long.toString(content.waiting()))
        .put("homing_message_id", content.messageId())
        .put("homing_seq", Long.toString(content.seq()));

    ObjectNode android = message.putObject("android").put("priority", "HIGH");
    ObjectNode apns = message.putObject("apns");
    ObjectNode apnsHeaders = apns.putObject("headers").put("apns-priority", silent ? "5" : "10");
    if (!content.collapseId().isEmpty()) {
      android.put("collapse_key", content.collapseId());
      apnsHeaders.put("apns-collapse-id", content.collapseId());
    }
    if (content.expiresAtMs() > 0) {
      long seconds = Math.max(0, (content.expiresAtMs() - nowMs + 999) / 1000);
      android.put("ttl", seconds + "s");
      apnsHeaders.put("apns-expiration", Long.toString(content.expiresAtMs() / 1000));
    }
    if (silent) {
      apns.putObject("payload").putObject("aps").put("content-available", 1);
    }
    return body;
  }
}
