package io.homing.client;

import com.auth0.jwt.JWT;
import com.auth0.jwt.algorithms.Algorithm;
import java.time.Duration;
import java.time.Instant;

/**
 * Mints client tokens the way an application's auth service would: HS256 JWTs with the user id in
 * {@code sub}, the device id in {@code device}, and an expiry. For development and tests; in
 * production the application mints them with the secret it shares with the edges.
 */
public final class Tokens {
  private Tokens() {}

  public static String mint(String hs256Secret, String userId, String deviceId, Duration ttl) {
    Instant now = Instant.now();
    return JWT.create()
        .withSubject(userId)
        .withClaim("device", deviceId)
        .withIssuedAt(now)
        .withExpiresAt(now.plus(ttl))
        .sign(Algorithm.HMAC256(hs256Secret));
  }
}
