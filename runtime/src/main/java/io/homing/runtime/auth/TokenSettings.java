package io.homing.runtime.auth;

import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * How tokens are checked ({@link JwtChecker}): the keys they may be signed with, and the issuer
 * and audience they must name. The edges check client tokens with one, the Send API sender
 * tokens with another. Immutable; validated when built. At least one kind of key is required.
 *
 * @param hs256Secret the shared secret of HS256 tokens, at least 32 characters; empty: HS256
 *     tokens are refused
 * @param jwksUrl where the JWK set holding the public keys of RS256 and ES256 tokens is fetched
 *     ({@code http} or {@code https}); empty: RS256 and ES256 tokens are refused
 * @param jwksRefresh how long a fetched JWK set is cached; at least {@link #MIN_JWKS_REFRESH}. The
 *     default is {@link #DEFAULT_JWKS_REFRESH}.
 * @param issuer when present, a token's {@code iss} must equal it
 * @param audience when present, a token's {@code aud} must contain it
 */
public record TokenSettings(
    Optional<String> hs256Secret,
    Optional<URI> jwksUrl,
    Duration jwksRefresh,
    Optional<String> issuer,
    Optional<String> audience) {

  /** The shortest HS256 secret, in characters: HS256 needs a key of at least 256 bits. */
  public static final int MIN_SECRET_LENGTH = 32;

  public static final Duration DEFAULT_JWKS_REFRESH = Duration.ofMinutes(5);

  /** Shorter than this leaves no room to refresh the keys ahead of their expiry. */
  public static final Duration MIN_JWKS_REFRESH = Duration.ofSeconds(2);

  public TokenSettings {
    Objects.requireNonNull(hs256Secret, "hs256Secret");
    Objects.requireNonNull(jwksUrl, "jwksUrl");
    Objects.requireNonNull(jwksRefresh, "jwksRefresh");
    Objects.requireNonNull(issuer, "issuer");
    Objects.requireNonNull(audience, "audience");
    if (hs256Secret.isEmpty() && jwksUrl.isEmpty()) {
      throw new IllegalArgumentException(
          "tokens: no HS256 secret and no JWKS URL (expected: at least one of them)");
    }
    hs256Secret.ifPresent(
        secret -> {
          if (secret.length() < MIN_SECRET_LENGTH) {
            throw new IllegalArgumentException(
                "hs256Secret: " + secret.length() + " characters (expected: >= "
                    + MIN_SECRET_LENGTH + ")");
          }
        });
    jwksUrl.ifPresent(TokenSettings::requireHttpUrl);
    if (jwksRefresh.compareTo(MIN_JWKS_REFRESH) < 0) {
      throw new IllegalArgumentException(
          "jwksRefresh: " + jwksRefresh + " (expected: >= " + MIN_JWKS_REFRESH + ")");
    }
    issuer.ifPresent(value -> requireText("issuer", value));
    audience.ifPresent(value -> requireText("audience", value));
  }

  /** Tokens signed with HS256 by {@code secret}, no issuer or audience required. */
  public static TokenSettings hs256(String secret) {
    return new TokenSettings(
        Optional.of(secret), Optional.empty(), DEFAULT_JWKS_REFRESH, Optional.empty(),
        Optional.empty());
  }

  private static void requireHttpUrl(URI url) {
    String scheme = url.getScheme();
    if (!("http".equalsIgnoreCase(scheme) || "https".equalsIgnoreCase(scheme))
        || url.getHost() == null) {
      throw new IllegalArgumentException(
          "jwksUrl: " + url + " (expected: an http or https URL with a host)");
    }
  }

  private static void requireText(String name, String value) {
    if (value.isBlank()) {
      throw new IllegalArgumentException(name + ": '" + value + "' (expected: not blank)");
    }
  }
}
