package io.homing.edge.auth;

import com.auth0.jwt.JWT;
import com.auth0.jwt.JWTVerifier;
import com.auth0.jwt.algorithms.Algorithm;
import com.auth0.jwt.exceptions.JWTVerificationException;
import com.auth0.jwt.exceptions.TokenExpiredException;
import com.auth0.jwt.interfaces.DecodedJWT;
import io.homing.api.Limits;
import io.homing.api.v1.AuthError;
import java.time.Duration;

/**
 * Verifies client tokens: JWTs signed with HS256 by the application's auth service, carrying the
 * user id in {@code sub}, the device id in {@code device}, and an {@code exp}. Thread-safe.
 */
public final class TokenVerifier {
  /** The claim that names the device. */
  public static final String DEVICE_CLAIM = "device";
  /** How far past {@code exp} a token is still accepted, for clocks that differ a little. */
  public static final Duration LEEWAY = Duration.ofSeconds(1);


  private final JWTVerifier verifier;

  public TokenVerifier(String hs256Secret) {
    this.verifier =
        JWT.require(Algorithm.HMAC256(hs256Secret))
            .withClaimPresence("sub")
            .withClaimPresence("exp")
            .withClaimPresence(DEVICE_CLAIM)
            .acceptLeeway(LEEWAY.toSeconds())
            .build();
  }

  /** The identity the token proves, or why it proves none. */
  public VerifiedToken verify(String token) throws AuthenticationException {
    if (token == null || token.isEmpty()) {
      throw new AuthenticationException(AuthError.Code.INVALID_TOKEN, "token is missing");
    }
    DecodedJWT jwt;
    try {
      jwt = verifier.verify(token);
    } catch (TokenExpiredException e) {
      throw new AuthenticationException(
          AuthError.Code.EXPIRED_TOKEN, "token expired at " + e.getExpiredOn());
    } catch (JWTVerificationException e) {
      throw new AuthenticationException(
          AuthError.Code.INVALID_TOKEN, "token refused: " + e.getMessage());
    }
    String user = jwt.getSubject();
    String device = jwt.getClaim(DEVICE_CLAIM).asString();
    requireId("sub", user);
    requireId(DEVICE_CLAIM, device);
    return new VerifiedToken(new Identity(user, device), jwt.getExpiresAtAsInstant());
  }

  private static void requireId(String claim, String value) throws AuthenticationException {
    if (!Limits.isValidId(value)) {
      throw new AuthenticationException(
          AuthError.Code.INVALID_TOKEN,
          "token refused: claim '" + claim + "' must be a string of 1.." + Limits.MAX_ID_LENGTH
              + " characters");
    }
  }
}
