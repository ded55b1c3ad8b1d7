package io.homing.api;

import io.grpc.Metadata;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;

/**
 * Send API keys: how a sender's key is made, and the SHA-256 the core's key file holds in its
 * place (docs/security.md). A caller sends its key as the gRPC metadata {@code authorization:
 * Bearer <key>}.
 */
public final class ApiKey {
  /** The key deploy/local's Send API takes; never use it beyond a laptop. */
  public static final String DEVELOPMENT = "homing-dev-api-key-do-not-use-in-production";

  /** What a key made here starts with, so that a leaked one is easy to recognize and search for. */
  public static final String PREFIX = "hk_";

  /** The gRPC metadata a call carries its key in, as {@link #BEARER} and the key. */
  public static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  /** What the {@link #AUTHORIZATION} value starts with, before the key. */
  public static final String BEARER = "Bearer ";

  /**
   * The bearer credential of a call's metadata: what follows {@link #BEARER} (in any case) in
   * its {@link #AUTHORIZATION}, stripped; empty when it has none.
   */
  public static String bearerCredential(Metadata headers) {
    String authorization = headers.get(AUTHORIZATION);
    int prefix = BEARER.length();
    return authorization != null && authorization.regionMatches(true, 0, BEARER, 0, prefix)
        ? authorization.substring(prefix).strip() : "";
  }

  private static final int RANDOM_BYTES = 32;
  private static final SecureRandom RANDOM = new SecureRandom();

  private ApiKey() {}

  /** A new key: {@code hk_} and 32 random bytes in unpadded base64url. */
  public static String generate() {
    byte[] bytes = new byte[RANDOM_BYTES];
    RANDOM.nextBytes(bytes);
    return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  /**
   * Why a sender's name and recipient patterns cannot make a line of the key file, or null when
   * they can: a name without spaces that does not start with {@code #}, and comma-separated
   * patterns ({@code *}, {@code prefix*} or a user id), none empty, without spaces.
   */
  public static String invalidSender(String name, String recipients) {
    if (name.isEmpty() || name.startsWith("#") || name.chars().anyMatch(Character::isWhitespace)) {
      return "sender name '" + name + "' (expected: not empty, no spaces, not starting with #)";
    }
    if (recipients.chars().anyMatch(Character::isWhitespace)
        || Arrays.stream(recipients.split(",", -1)).anyMatch(String::isEmpty)) {
      return "recipients '" + recipients + "' (expected: comma-separated user ids, prefix* "
          + "patterns or *, none empty, no spaces)";
    }
    return null;
  }

  /** The key's SHA-256 in lower-case hex, as the key file holds it. */
  public static String hash(String key) {
    try {
      return HexFormat.of().formatHex(
          MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}
