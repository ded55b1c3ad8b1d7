package io.homing.notifier.push;

import io.homing.api.v1.Notification;
import java.util.Map;

/**
 * What one notification says, decided before it goes to a provider: the mode is resolved (never
 * {@code MODE_DEFAULT} or {@code NONE}), title and body are filled in and within their limits.
 *
 * @param id names this notification, the same on every retry (a UUID string): the webhook-id,
 *     the apns-id
 * @param userId the recipient
 * @param deviceId the device the target belongs to
 * @param mode {@code SILENT} or {@code ALERT}
 * @param title shown by ALERT
 * @param body shown by ALERT
 * @param data key-value pairs for the app
 * @param waiting how many messages wait for the device
 * @param messageId the newest message it covers
 * @param seq that message's seq
 * @param collapseId the same for every notification of the user, so the device shows the newest
 *     (apns-collapse-id, FCM collapse_key)
 * @param expiresAtMs after this the provider should not deliver it any more (0: no limit)
 */
public record PushContent(
    String id,
    String userId,
    String deviceId,
    Notification.Mode mode,
    String title,
    String body,
    Map<String, String> data,
    long waiting,
    String messageId,
    long seq,
    String collapseId,
    long expiresAtMs) {}
