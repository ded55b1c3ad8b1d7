package io.homing.edge.auth;

import com.nimbusds.jwt.JWTClaimsSet;
import io.homing.api.Limits;
import io.homing.api.v1.AuthError;
import io.homing.runtime.auth.JwtChecker;
import io.homing.runtime.auth.JwtRefusedException;
import io.homing.runtime.auth.TokenSettings;
import io.homing.runtime.auth.TokenSettings;
import java.text.ParseException;
import java.time.Duration;
import java.util.Set;

/**
 * Verifies client tokens: JWTs carrying the user id in {@code sub}, the device id in {@code
 * device} and an {@code exp}, signed with HS256 by the shared secret, or with RS256 or ES256 by a
 * key of the JWK set at the configured URL, as {@link JwtChecker} checks them. See docs/tokens.md.
 *
 * <p>Thread-safe; {@link #verify} blocks only as {@link JwtChecker#check} does.
 */
public final class TokenVerifier implements AutoCloseable {
  /** The claim that names the device. */
  public static final String DEVICE_CLAIM = "device";

  /**
   * How far past {@code exp} (and before {@code nbf}) a token is still accepted, for clocks that
   * differ a little.
   */
  public static final Duration LEEWAY = JwtChecker.LEEWAY;

  private final JwtChecker checker;

  /**
   * Builds the verifier; with a JWK set URL, fetches the set once (blocking for up to the HTTP
   * timeouts) and starts refreshing it in the background until {@link #close}.
   */
  public TokenVerifier(TokenSettings settings) {
    this.checker = new JwtChecker(settings, Set.of("sub", "exp", DEVICE_CLAIM));
  }

  /**
   * The identity the token proves and when the token expires, or why it proves nothing. The
   * exception's message never contains the token.
   */
  public VerifiedToken verify(String token) throws AuthenticationException {
    JWTClaimsSet claims;
    try {
      claims = checker.check(token);
    } catch (JwtRefusedException e) {
      throw new AuthenticationException(
          e.expired() ? AuthError.Code.EXPIRED_TOKEN : AuthError.Code.INVALID_TOKEN,
          e.getMessage());
    }
    String user = claims.getSubject();
    requireId("sub", user);
    String device;
    try {
      device = claims.getStringClaim(DEVICE_CLAIM);
    } catch (ParseException e) {
      device = null;
    }
    requireId(DEVICE_CLAIM, device);
    return new VerifiedToken(
        new Identity(user, device), claims.getExpirationTime().toInstant());
  }

  /** Stops refreshing the JWK set. Idempotent. */
  @Override
  public void close() {
    checker.close();
  }

  private static void requireId(String claim, String value) throws AuthenticationException {
    if (!Limits.isValidId(value)) {
      throw new AuthenticationException(AuthError.Code.INVALID_TOKEN,
          "token refused: claim '" + claim + "' must be a string of " + Limits.ID_RULE);
    }
  }
}
