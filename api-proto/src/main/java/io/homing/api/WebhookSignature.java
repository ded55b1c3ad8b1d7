package io.homing.api;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The Standard Webhooks signature (https://www.standardwebhooks.com) that the notifier's webhook
 * provider puts on every request, and how a receiver checks it (docs/push.md).
 *
 * <p>A request carries three headers: {@code webhook-id} (the same on every retry, so a receiver
 * can drop duplicates), {@code webhook-timestamp} (Unix seconds) and {@code webhook-signature}:
 * one or more space-separated {@code v1,<base64 HMAC-SHA256(key, id + "." + timestamp + "." +
 * body)>}, one per secret while a secret is being rotated. A secret is written {@code
 * whsec_<base64 of the key>}.
 *
 * <p>A receiver calls {@link #verify}: the body must be the raw bytes received, before any JSON
 * parsing.
 */
public final class WebhookSignature {
  /** What every secret starts with. */
  public static final String SECRET_PREFIX = "whsec_";

  /** How far a timestamp may be from the receiver's clock, either way: 5 minutes. */
  public static final Duration DEFAULT_TOLERANCE = Duration.ofMinutes(5);

  private static final String VERSION = "v1,";
  private static final String HMAC = "HmacSHA256";

  private WebhookSignature() {}

  /**
   * The key of a {@code whsec_<base64>} secret.
   *
   * @throws IllegalArgumentException when it does not have that form or the key is empty
   */
  public static byte[] key(String secret) {
    if (!secret.startsWith(SECRET_PREFIX)) {
      throw new IllegalArgumentException(
          "webhook secret: does not start with " + SECRET_PREFIX + " (expected: whsec_<base64>)");
    }
    byte[] key;
    try {
      key = Base64.getDecoder().decode(secret.substring(SECRET_PREFIX.length()));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "webhook secret: not base64 after " + SECRET_PREFIX + " (expected: whsec_<base64>)", e);
    }
    if (key.length == 0) {
      throw new IllegalArgumentException("webhook secret: empty key (expected: whsec_<base64>)");
    }
    return key;
  }

  /** One signature, {@code v1,<base64>}, of the body sent with this id and timestamp. */
  public static String sign(byte[] key, String id, long timestampSeconds, byte[] body) {
    try {
      Mac mac = Mac.getInstance(HMAC);
      mac.init(new SecretKeySpec(key, HMAC));
      mac.update((id + "." + timestampSeconds + ".").getBytes(StandardCharsets.UTF_8));
      return VERSION + Base64.getEncoder().encodeToString(mac.doFinal(body));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }

  /** The {@code webhook-signature} header: the signatures of every key, space-separated. */
  public static String header(List<byte[]> keys, String id, long timestampSeconds, byte[] body) {
    StringBuilder header = new StringBuilder();
    for (byte[] key : keys) {
      if (header.length() > 0) {
        header.append(' ');
      }
      header.append(sign(key, id, timestampSeconds, body));
    }
    return header.toString();
  }

  /**
   * Whether a request is genuine: its timestamp is within {@code tolerance} of {@code now} and
   * one of the {@code v1} signatures in {@code signatureHeader} is the secret's. Compares in
   * constant time. Null or malformed headers are not genuine.
   */
  public static boolean verify(
      String secret,
      String id,
      String timestamp,
      byte[] body,
      String signatureHeader,
      Instant now,
      Duration tolerance) {
    if (id == null || timestamp == null || signatureHeader == null) {
      return false;
    }
    long seconds;
    try {
      seconds = Long.parseLong(timestamp.trim());
    } catch (NumberFormatException e) {
      return false;
    }
    if (Math.abs(now.getEpochSecond() - seconds) > tolerance.toSeconds()) {
      return false;
    }
    byte[] expected = sign(key(secret), id, seconds, body).getBytes(StandardCharsets.US_ASCII);
    boolean found = false;
    for (String signature : signatureHeader.trim().split(" +")) {
      // No early return: every candidate is compared, so timing tells nothing.
      found |= MessageDigest.isEqual(expected, signature.getBytes(StandardCharsets.US_ASCII));
    }
    return found;
  }
}
