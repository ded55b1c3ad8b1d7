package io.homing.api;

import io.homing.api.v1.Notification;
import io.homing.api.v1.PushTarget;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

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

  private static final Pattern PREFIX = Pattern.compile("https?://[^/?#@\\s]+(/\\S*|:)");

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
        return webhookUri(url) == null
            ? "a webhook URL is http:// or https://, with a host, no user info, and no '.' or "
                + "'..' segments or '//' in its path" : null;
      }
      default -> {
        return "no target kind (apns, fcm or webhook)";
      }
    }
  }

  /**
   * Whether a webhook URL may be called: well formed ({@link #invalid}) and starting with one of
   * the allowed prefixes ({@link #invalidPrefix} says which prefixes are).
   */
  public static boolean webhookAllowed(String url, List<String> prefixes) {
    return webhookUri(url) != null && prefixes.stream().anyMatch(url::startsWith);
  }

  /**
   * Why a webhook URL prefix cannot be allowed, or null when it can: {@code http://} or
   * {@code https://}, a host, and then either a path ({@code https://hooks.example.com/}) or a
   * ':' for any port of the host ({@code http://127.0.0.1:}). A prefix that stops inside the
   * host ({@code https://hooks.example.com}) would also allow
   * {@code https://hooks.example.com.evil.org/}.
   */
  public static String invalidPrefix(String prefix) {
    return PREFIX.matcher(prefix).matches() ? null : "webhook URL prefix '" + prefix
        + "' (expected: http(s)://host/path... or http(s)://host: for any port of the host)";
  }

  /**
   * The URL when a notifier may call it: http or https, a host, no user info, and already normal
   * (no '.' or '..' segments, no '//'), so that a prefix check on its text holds for where it
   * leads; else null.
   */
  private static URI webhookUri(String url) {
    try {
      URI uri = new URI(url);
      String scheme = uri.getScheme();
      boolean web = "http".equalsIgnoreCase(scheme) || "https".equalsIgnoreCase(scheme);
      return web && uri.getHost() != null && uri.getRawUserInfo() == null
          && uri.normalize().toString().equals(url) ? uri : null;
    } catch (URISyntaxException e) {
      return null;
    }
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
