package io.homing.edge.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.auth0.jwt.JWT;
import com.auth0.jwt.algorithms.Algorithm;
import io.homing.api.v1.AuthError;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class TokenVerifierTest {
  private static final String SECRET = "unit-test-secret-0123456789abcdefghij";
  private final TokenVerifier verifier = new TokenVerifier(SECRET);

  @Test
  void acceptsAValidTokenAndReadsUserAndDevice() throws Exception {
    String token = token(SECRET, "alice", "phone", Instant.now().plusSeconds(60));

    assertThat(verifier.verify(token)).isEqualTo(new Identity("alice", "phone"));
  }

  @Test
  void refusesAWrongSignature() {
    String token = token("another-secret-0123456789abcdefghijkl", "alice", "phone",
        Instant.now().plusSeconds(60));

    assertThat(refusal(token).code()).isEqualTo(AuthError.Code.INVALID_TOKEN);
  }

  @Test
  void refusesAnExpiredToken() {
    String token = token(SECRET, "alice", "phone", Instant.now().minusSeconds(60));

    AuthenticationException e = refusal(token);
    assertThat(e.code()).isEqualTo(AuthError.Code.EXPIRED_TOKEN);
    assertThat(e.getMessage()).startsWith("token expired at");
  }

  @Test
  void refusesATokenWithoutDeviceOrExpiry() {
    String noDevice =
        JWT.create().withSubject("alice").withExpiresAt(Instant.now().plusSeconds(60))
            .sign(Algorithm.HMAC256(SECRET));
    String noExpiry =
        JWT.create().withSubject("alice").withClaim("device", "phone")
            .sign(Algorithm.HMAC256(SECRET));

    assertThat(refusal(noDevice).code()).isEqualTo(AuthError.Code.INVALID_TOKEN);
    assertThat(refusal(noExpiry).code()).isEqualTo(AuthError.Code.INVALID_TOKEN);
  }

  @Test
  void refusesABlankSubject() {
    AuthenticationException e = refusal(token(SECRET, " ", "phone", Instant.now().plusSeconds(60)));
    assertThat(e.getMessage()).contains("'sub'");
  }

  @Test
  void refusesUnsignedAndMalformedTokens() {
    String unsigned =
        JWT.create().withSubject("alice").withClaim("device", "phone")
            .withExpiresAt(Instant.now().plusSeconds(60)).sign(Algorithm.none());

    assertThat(refusal(unsigned).code()).isEqualTo(AuthError.Code.INVALID_TOKEN);
    assertThat(refusal("garbage").code()).isEqualTo(AuthError.Code.INVALID_TOKEN);
    assertThat(refusal("").getMessage()).isEqualTo("token is missing");
  }

  private AuthenticationException refusal(String token) {
    return catchThrowableOfType(AuthenticationException.class, () -> verifier.verify(token));
  }

  private static String token(String secret, String user, String device, Instant expiry) {
    return JWT.create()
        .withSubject(user)
        .withClaim("device", device)
        .withExpiresAt(expiry)
        .sign(Algorithm.HMAC256(secret));
  }
}
