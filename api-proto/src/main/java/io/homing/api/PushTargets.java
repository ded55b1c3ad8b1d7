package io.homing.api;

import io.homing.api.v1.Notification;
import io.homing.api.v1.PushTarget;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * What a valid push target and notification are (docs/push.md), checked the same way by the edge
 * that takes a SetPushTarget, the Send API, delivery-core and the notifier.
 */
public final class PushTargets {
  /** The longest APNs device token, in hex digits (tokens are 32 bytes today, up to 100 later). */
  public static final int MAX_APNS_TOKEN = 200;
  /** The longest FCM registration token, and APNs topic. */
  public static final int MAX_TOKEN = 4096;
  /** The longest webhook URL. */
  public static final int MAX_URL = 2048;
  /** Notification.title, body and data limits. */
  public static final int MAX_TITLE = 256;
  public static final int MAX_BODY = 1024;
  public static final int MAX_DATA_BYTES = 2048;

  private PushTargets() {}

  /** Why the target is malformed, or null when it is well formed. */
  public static String invalid(PushTarget target) {
    switch (target.getKindCase()) {
      case APNS -> {
        String token = target.getApns().getDeviceToken();
        if (token.length() < 64 || token.length() > MAX_APNS_TOKEN || token.length() % 2 != 0
            || !token.chars().allMatch(PushTargets::isHex)) {
          return "an APNs device token is 64.." + MAX_APNS_TOKEN + " hex digits";
        }
        String topic = target.getApns().getTopic();
        if (topic.length() > MAX_TOKEN || hasControl(topic) || topic.contains(" ")) {
          return "an APNs topic is a bundle id: no spaces or control characters";
        }
        return null;
      }
      case FCM -> {
        String token = target.getFcm().getRegistrationToken();
        if (token.isEmpty() || token.length() > MAX_TOKEN || hasControl(token)
            || token.contains(" ")) {
          return "an FCM registration token is 1.." + MAX_TOKEN
              + " characters without spaces or control characters";
        }
        return null;
      }
      case WEBHOOK -> {
        String url = target.getWebhook().getUrl();
        if (url.isEmpty() || url.length() > MAX_URL || hasControl(url)) {
          return "a webhook URL is 1.." + MAX_URL + " characters";
        }
        try {
          URI uri = new URI(url);
          String scheme = uri.getScheme();
          if (!("http".equalsIgnoreCase(scheme) || "https".equalsIgnoreCase(scheme))
              || uri.getHost() == null || uri.getRawUserInfo() != null) {
            return "a webhook URL is http:// or https://, with a host and no user info";
          }
        } catch (URISyntaxException e) {
          return "a webhook URL must parse: " + e.getMessage();
        }
        return null;
      }
      default -> {
        return "no target kind (apns, fcm or webhook)";
      }
    }
  }

  /**
   * Whether a webhook URL starts with one of the allowed prefixes. Prefixes should end with a
   * '/' (or name a whole origin with it), so that {@code https://hooks.example.com} cannot be
   * extended into {@code https://hooks.example.com.evil.org}.
   */
  public static boolean allowed(String url, List<String> prefixes) {
    return prefixes.stream().anyMatch(url::startsWith);
  }

  /** Why the notification is over its limits, or null when it is within them. */
  public static String invalid(Notification notification) {
    if (notification.getTitle().length() > MAX_TITLE) {
      return "notification title of " + notification.getTitle().length()
          + " characters (at most " + MAX_TITLE + ")";
    }
    if (notification.getBody().length() > MAX_BODY) {
      return "notification body of " + notification.getBody().length() + " characters (at most "
          + MAX_BODY + ")";
    }
    int dataBytes = dataBytes(notification.getDataMap());
    if (dataBytes > MAX_DATA_BYTES) {
      return "notification data of " + dataBytes + " bytes (at most " + MAX_DATA_BYTES + ")";
    }
    return null;
  }

  /** The UTF-8 size of the data's keys and values. */
  public static int dataBytes(Map<String, String> data) {
    int bytes = 0;
    for (Map.Entry<String, String> e : data.entrySet()) {
      bytes += e.getKey().getBytes(StandardCharsets.UTF_8).length
          + e.getValue().getBytes(StandardCharsets.UTF_8).length;
    }
    return bytes;
  }

  /** A target for a log line: its kind, never the token or URL (personal data, secrets). */
  public static String describe(PushTarget target) {
    return switch (target.getKindCase()) {
      case APNS -> target.getApns().getSandbox() ? "apns (sandbox)" : "apns";
      case FCM -> "fcm";
      case WEBHOOK -> "webhook";
      default -> "none";
    };
  }

  private static boolean isHex(int c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }

  private static boolean hasControl(String s) {
    return s.chars().anyMatch(Character::isISOControl);
  }
}
