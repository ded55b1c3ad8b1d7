package io.homing.runtime.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.jwk.source.RateLimitReachedException;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier;
import com.nimbusds.jose.proc.JWSKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import com.nimbusds.jwt.proc.ExpiredJWTException;
import java.nio.charset.StandardCharsets;
import java.security.Key;
import java.text.ParseException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import javax.crypto.spec.SecretKeySpec;

/**
 * Checks the signature, type, times, issuer and audience of JWTs signed with HS256 by a shared
 * secret, or with RS256 or ES256 by a key of the JWK set at a URL ({@link JwksKeys}). A token's
 * {@code alg} must be one of those whose keys are configured, and only keys of that kind check
 * it: an HS256 token is checked with the secret alone, never with a public key. The {@code typ}
 * header, when present, is {@code JWT} or {@code at+jwt}. Both the client tokens of the edges and
 * the sender tokens of the Send API are checked with it (docs/tokens.md, docs/security.md).
 *
 * <p>Thread-safe. {@link #check} does not block while the keys it needs are cached (HS256 always;
 * the JWK set is refreshed in the background). It fetches the JWK set on the calling thread when
 * a token names a {@code kid} the cached set lacks, or when no set is cached: at most about a
 * second ({@link JwksKeys#HTTP_TIMEOUT_MS} to connect and as much to read, or {@link
 * JwksKeys#FETCH_WAIT} waiting for another thread's fetch), and rate-limited.
 */
public final class JwtChecker implements AutoCloseable {
  /**
   * How far past {@code exp} (and before {@code nbf}) a token is still accepted, for clocks that
   * differ a little.
   */
  public static final Duration LEEWAY = Duration.ofSeconds(1);

  private final List<JWSAlgorithm> algorithms;
  private final Optional<JwksKeys> jwks;
  private final DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();

  /**
   * Builds the checker; with a JWK set URL, fetches the set once (blocking for up to the HTTP
   * timeouts) and starts refreshing it in the background until {@link #close}.
   *
   * @param settings the keys, issuer and audience
   * @param required the claims a token must have
   */
  public JwtChecker(TokenSettings settings, Set<String> required) {
    Optional<Key> secret = settings.hs256Secret()
        .map(s -> new SecretKeySpec(s.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    this.jwks = settings.jwksUrl().map(url -> new JwksKeys(url, settings.jwksRefresh()));
    List<JWSAlgorithm> accepted = new ArrayList<>();
    secret.ifPresent(key -> accepted.add(JWSAlgorithm.HS256));
    jwks.ifPresent(keys -> accepted.addAll(List.of(JWSAlgorithm.RS256, JWSAlgorithm.ES256)));
    this.algorithms = List.copyOf(accepted);

    processor.setJWSTypeVerifier(
        new DefaultJOSEObjectTypeVerifier<>(
            JOSEObjectType.JWT, new JOSEObjectType("at+jwt"), null));
    processor.setJWSKeySelector(selector(secret, jwks.map(JwksKeys::selector)));
    JWTClaimsSet.Builder exact = new JWTClaimsSet.Builder();
    settings.issuer().ifPresent(exact::issuer);
    DefaultJWTClaimsVerifier<SecurityContext> claims =
        new DefaultJWTClaimsVerifier<>(
            settings.audience().map(Set::of).orElse(null), exact.build(), required, null);
    claims.setMaxClockSkew((int) LEEWAY.toSeconds());
    processor.setJWTClaimsSetVerifier(claims);
    jwks.ifPresent(JwksKeys::prefetch);
  }

  /** The algorithms a token may be signed with: those whose keys are configured. */
  public List<JWSAlgorithm> algorithms() {
    return algorithms;
  }

  /** The claims of a token that passed every check, or why it did not. */
  public JWTClaimsSet check(String token) throws JwtRefusedException {
    if (token == null || token.isEmpty()) {
      throw refused("token is missing");
    }
    SignedJWT jwt;
    JWTClaimsSet claims;
    try {
      jwt = SignedJWT.parse(token);
      claims = jwt.getJWTClaimsSet();
    } catch (ParseException e) {
      throw refused("token refused: not a well-formed signed JWT");
    }
    JWSAlgorithm alg = jwt.getHeader().getAlgorithm();
    if (!algorithms.contains(alg)) {
      throw refused("token refused: alg " + alg + " (expected: one of " + algorithms + ")");
    }
    try {
      processor.process(jwt, null);
    } catch (ExpiredJWTException e) {
      throw new JwtRefusedException(
          "token expired at " + claims.getExpirationTime().toInstant(), true);
    } catch (BadJOSEException e) {
      throw refused("token refused: " + e.getMessage());
    } catch (RateLimitReachedException e) {
      throw refused("token refused: no key matches it, and the JWK set was fetched too recently"
          + " to fetch it again");
    } catch (KeySourceException e) {
      throw refused("token refused: the JWK set to check it with is unavailable");
    } catch (JOSEException e) {
      throw refused("token refused: " + e.getMessage());
    }
    return claims;
  }

  /** Stops refreshing the JWK set. Idempotent. */
  @Override
  public void close() {
    jwks.ifPresent(JwksKeys::close);
  }

  /** HS256 tokens get the secret, whatever their {@code kid}; RS256 and ES256 the JWK set's keys. */
  private static JWSKeySelector<SecurityContext> selector(
      Optional<Key> secret, Optional<JWSKeySelector<SecurityContext>> remote) {
    return (header, context) -> {
      JWSAlgorithm alg = header.getAlgorithm();
      if (JWSAlgorithm.HS256.equals(alg)) {
        return secret.map(List::of).orElse(List.of());
      }
      if (remote.isPresent() && JwksKeys.ALGORITHMS.contains(alg)) {
        return remote.get().selectJWSKeys(header, context);
      }
      return List.of();
    };
  }

  private static JwtRefusedException refused(String message) {
    return new JwtRefusedException(message, false);
  }
}
