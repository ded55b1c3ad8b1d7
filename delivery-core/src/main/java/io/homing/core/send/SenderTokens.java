package io.homing.core.send;

import com.nimbusds.jwt.JWTClaimsSet;
import io.homing.api.ApiKey;
import io.homing.api.Limits;
import io.homing.runtime.auth.JwtChecker;
import io.homing.runtime.auth.JwtRefusedException;
import io.homing.runtime.auth.TokenSettings;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Sender tokens: JWTs a Send API caller sends in place of an API key, checked like client tokens
 * ({@link JwtChecker}: HS256 with a secret, RS256 or ES256 with a JWK set, issuer, audience,
 * {@code exp}). The token's {@code sub} names the sender; its {@code scope} claim — a
 * space-separated string, or an array of strings — names the users it may send to, one {@code
 * send:<pattern>} per pattern ({@code send:*}, {@code send:shop-*}, {@code send:alice}; see
 * {@link Sender}). Other scopes are ignored; a token without a {@code send:} scope authenticates
 * a sender that may send to nobody. See docs/security.md. Thread-safe.
 */
public final class SenderTokens implements AutoCloseable {
  /** The claim that holds the scopes. */
  public static final String SCOPE_CLAIM = "scope";

  /** What a scope that grants recipients starts with. */
  public static final String SEND_SCOPE = "send:";

  /** The audience a sender token must name unless configured otherwise. */
  public static final String DEFAULT_AUDIENCE = "homing-send";

  private final JwtChecker checker;

  public SenderTokens(TokenSettings settings) {
    this.checker = new JwtChecker(settings, Set.of("sub", "exp"));
  }

  /**
   * Whether a bearer credential is a JWT rather than an API key: JWTs are three base64url parts
   * joined by dots, and API keys have no dot.
   */
  static boolean isJwt(String credential) {
    return credential.chars().filter(c -> c == '.').count() == 2;
  }

  /** The sender the token proves, or why it proves nothing; never contains the token. */
  public Sender verify(String token) throws JwtRefusedException {
    JWTClaimsSet claims = checker.check(token);
    String name = claims.getSubject();
    if (!Limits.isValidId(name) || ApiKey.invalidSender(name, "*") != null) {
      throw new JwtRefusedException("token refused: claim 'sub' must name the sender: "
          + Limits.ID_RULE + ", without spaces, not starting with #", false);
    }
    return new Sender(name, recipients(claims.getClaim(SCOPE_CLAIM)));
  }

  private static List<String> recipients(Object scope) throws JwtRefusedException {
    List<String> scopes = new ArrayList<>();
    if (scope instanceof String text) {
      scopes.addAll(Arrays.asList(text.strip().split("\\s+")));
    } else if (scope instanceof List<?> list) {
      for (Object item : list) {
        if (item instanceof String text) {
          scopes.add(text);
        }
      }
    }
    List<String> patterns = new ArrayList<>();
    for (String value : scopes) {
      if (!value.startsWith(SEND_SCOPE)) {
        continue;
      }
      String pattern = value.substring(SEND_SCOPE.length());
      if (pattern.isEmpty() || pattern.contains(",")
          || pattern.chars().anyMatch(Character::isWhitespace)) {
        throw new JwtRefusedException("token refused: scope '" + value + "' (expected: "
            + SEND_SCOPE + "<user id>, " + SEND_SCOPE + "<prefix>* or " + SEND_SCOPE + "*)",
            false);
      }
      patterns.add(pattern);
    }
    return patterns;
  }

  /** Stops refreshing the JWK set. Idempotent. */
  @Override
  public void close() {
    checker.close();
  }
}
