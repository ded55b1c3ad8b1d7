package io.homing.notifier.push;

import com.eatthepath.pushy.apns.DeliveryPriority;
import com.eatthepath.pushy.apns.PushType;
import com.eatthepath.pushy.apns.util.SimpleApnsPayloadBuilder;
import com.eatthepath.pushy.apns.util.SimpleApnsPushNotification;
import io.homing.api.v1.Notification;
import java.time.Instant;
import java.util.UUID;

/**
 * The APNs request for one notification. ALERT: an alert with title and body, push type alert,
 * priority 10. SILENT: content-available, push type background, priority 5 (Apple refuses 10 for
 * background pushes). Both carry the data as custom keys beside {@code aps}, and Homing's own:
 * {@code homing_waiting}, {@code homing_message_id}, {@code homing_seq}.
 */
final class ApnsNotification {
  private ApnsNotification() {}

  static SimpleApnsPushNotification of(String token, String topic, PushContent content) {
    boolean silent = content.mode() == Notification.Mode.SILENT;
    SimpleApnsPayloadBuilder payload = new SimpleApnsPayloadBuilder();
    if (silent) {
      payload.setContentAvailable(true);
    } else {
      payload.setAlertTitle(content.title());
      payload.setAlertBody(content.body());
    }
    content.data().forEach((key, value) -> {
      if (!key.equals("aps")) { // Apple's own dictionary
        payload.addCustomProperty(key, value);
      }
    });
    payload.addCustomProperty("homing_waiting", content.waiting());
    payload.addCustomProperty("homing_message_id", content.messageId());
    payload.addCustomProperty("homing_seq", content.seq());
    return new SimpleApnsPushNotification(
        token,
        topic,
        payload.build(),
        expiration(content),
        silent ? DeliveryPriority.CONSERVE_POWER : DeliveryPriority.IMMEDIATE,
        silent ? PushType.BACKGROUND : PushType.ALERT,
        content.collapseId().isEmpty() ? null : content.collapseId(),
        apnsId(content.id()));
  }

  /**
   * When APNs stops trying. With no limit, Pushy's default day from now: Pushy sends a null
   * expiration as 0, which APNs reads as "now or never" and would not store the notification for
   * a phone that is off.
   */
  private static Instant expiration(PushContent content) {
    return content.expiresAtMs() > 0
        ? Instant.ofEpochMilli(content.expiresAtMs())
        : Instant.now().plus(SimpleApnsPushNotification.DEFAULT_EXPIRATION_PERIOD);
  }

  /** The notification's id as the apns-id, when it is a UUID (else APNs makes one up). */
  private static UUID apnsId(String id) {
    try {
      return UUID.fromString(id);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
