package io.homing.edge.auth;

import static io.homing.edge.auth.TestTokens.SECRET;
import static io.homing.edge.auth.TestTokens.claims;
import static io.homing.edge.auth.TestTokens.hs256;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import io.homing.api.v1.AuthError;
import io.homing.runtime.auth.TokenSettings;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** HS256 tokens and the claims every token must carry. */
class TokenVerifierTest {
  private TokenVerifier verifier = new TokenVerifier(TokenSettings.hs256(SECRET));

  @AfterEach
  void close() {
    verifier.close();
  }

  @Test
  void acceptsAValidTokenAndReadsUserDeviceAndExpiry() throws Exception {
    Instant expiry = Instant.now().plusSeconds(60).truncatedTo(ChronoUnit.SECONDS);
    String token = hs256(SECRET, claims().expirationTime(Date.from(expiry)));

    assertThat(verifier.verify(token))
        .isEqualTo(new VerifiedToken(new Identity("alice", "phone"), expiry));
  }

  @Test
  void acceptsAKidItDoesNotKnow() throws Exception {
    String token = TestTokens.sign(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("k7").build(),
        TestTokens.hmac(SECRET.getBytes(StandardCharsets.UTF_8)), claims());

    assertThat(verifier.verify(token).identity()).isEqualTo(new Identity("alice", "phone"));
  }

  @Test
  void acceptsTypJwtOrAtJwtOnly() throws Exception {
    for (String typ : List.of("JWT", "at+jwt")) {
      String token = TestTokens.sign(
          new JWSHeader.Builder(JWSAlgorithm.HS256).type(new JOSEObjectType(typ)).build(),
          TestTokens.hmac(SECRET.getBytes(StandardCharsets.UTF_8)), claims());
      assertThat(verifier.verify(token).identity()).isEqualTo(new Identity("alice", "phone"));
    }
    String other = TestTokens.sign(
        new JWSHeader.Builder(JWSAlgorithm.HS256).type(new JOSEObjectType("secevent+jwt")).build(),
        TestTokens.hmac(SECRET.getBytes(StandardCharsets.UTF_8)), claims());

    assertThat(refusal(other).code()).isEqualTo(AuthError.Code.INVALID_TOKEN);
  }

  @Test
  void refusesAWrongSignature() {
    String token = hs256("another-secret-0123456789abcdefghijkl", claims());

    AuthenticationException e = refusal(token);
    assertThat(e.code()).isEqualTo(AuthError.Code.INVALID_TOKEN);
    assertThat(e.getMessage()).contains("Invalid signature");
  }

  @Test
  void refusesAnExpiredToken() {
    String token = hs256(SECRET, claims().expirationTime(Date.from(Instant.now().minusSeconds(60))));

    AuthenticationException e = refusal(token);
    assertThat(e.code()).isEqualTo(AuthError.Code.EXPIRED_TOKEN);
    assertThat(e.getMessage()).startsWith("token expired at");
  }

  @Test
  void allowsOneSecondOfClockSkewOnExpiry() throws Exception {
    // Just after a second begins, an exp of that second has passed by a few milliseconds.
    Thread.sleep(1_000 - System.currentTimeMillis() % 1_000 + 20);
    String justExpired = hs256(SECRET, claims().expirationTime(new Date()));
    String longExpired =
        hs256(SECRET, claims().expirationTime(Date.from(Instant.now().minusSeconds(3))));

    assertThat(verifier.verify(justExpired).identity().userId()).isEqualTo("alice");
    assertThat(refusal(longExpired).code()).isEqualTo(AuthError.Code.EXPIRED_TOKEN);
  }

  @Test
  void refusesATokenNotValidYet() {
    String token = hs256(SECRET, claims().notBeforeTime(Date.from(Instant.now().plusSeconds(30))));

    assertThat(refusal(token).code()).isEqualTo(AuthError.Code.INVALID_TOKEN);
  }

  @Test
  void refusesATokenWithoutSubjectDeviceOrExpiry() {
    String noSubject = hs256(SECRET, claims().subject(null));
    String noDevice = hs256(SECRET, claims().claim(TokenVerifier.DEVICE_CLAIM, null));
    String noExpiry = hs256(SECRET, claims().expirationTime(null));

    for (String token : List.of(noSubject, noDevice, noExpiry)) {
      AuthenticationException e = refusal(token);
      assertThat(e.code()).isEqualTo(AuthError.Code.INVALID_TOKEN);
      assertThat(e.getMessage()).contains("missing required claims");
    }
  }

  @Test
  void refusesBlankTooLongAndNonStringIds() {
    String blankSubject = hs256(SECRET, claims().subject(" "));
    String longDevice = hs256(SECRET, claims().claim(TokenVerifier.DEVICE_CLAIM, "d".repeat(257)));
    String numberDevice = hs256(SECRET, claims().claim(TokenVerifier.DEVICE_CLAIM, 7));

    assertThat(refusal(blankSubject).getMessage()).contains("'sub'");
    assertThat(refusal(longDevice).getMessage()).contains("'device'");
    assertThat(refusal(numberDevice).getMessage()).contains("'device'");
  }

  @Test
  void refusesUnsignedAndMalformedTokens() {
    String unsigned = new PlainJWT(claims().build()).serialize();

    assertThat(refusal(unsigned).code()).isEqualTo(AuthError.Code.INVALID_TOKEN);
    assertThat(refusal("garbage").code()).isEqualTo(AuthError.Code.INVALID_TOKEN);
    assertThat(refusal("").getMessage()).isEqualTo("token is missing");
  }

  @Test
  void refusesOtherHmacAlgorithms() {
    String token = TestTokens.sign(new JWSHeader(JWSAlgorithm.HS512),
        TestTokens.hmac((SECRET + SECRET).getBytes(StandardCharsets.UTF_8)), claims());

    AuthenticationException e = refusal(token);
    assertThat(e.code()).isEqualTo(AuthError.Code.INVALID_TOKEN);
    assertThat(e.getMessage()).isEqualTo("token refused: alg HS512 (expected: one of [HS256])");
  }

  @Test
  void refusesAWrongIssuerOrAudience() throws Exception {
    verifier.close();
    verifier = new TokenVerifier(new TokenSettings(Optional.of(SECRET), Optional.empty(),
        TokenSettings.DEFAULT_JWKS_REFRESH, Optional.of("https://auth.example"),
        Optional.of("homing")));
    JWTClaimsSet.Builder right = claims().issuer("https://auth.example").audience("homing");

    assertThat(verifier.verify(hs256(SECRET, right)).identity().userId()).isEqualTo("alice");
    assertThat(verifier.verify(hs256(SECRET, right.audience(List.of("other", "homing"))))
        .identity().userId()).isEqualTo("alice");
    assertThat(refusal(hs256(SECRET, claims().issuer("https://evil.example").audience("homing")))
        .getMessage()).isEqualTo("token refused: JWT iss claim value rejected");
    assertThat(refusal(hs256(SECRET, claims().audience("homing"))).getMessage())
        .contains("missing required claims: [iss]");
    assertThat(refusal(hs256(SECRET, claims().issuer("https://auth.example").audience("other")))
        .getMessage()).isEqualTo("token refused: JWT aud claim rejected");
    assertThat(refusal(hs256(SECRET, claims().issuer("https://auth.example"))).code())
        .isEqualTo(AuthError.Code.INVALID_TOKEN);
  }

  @Test
  void neverPutsTheTokenInItsMessage() {
    String token = hs256("another-secret-0123456789abcdefghijkl", claims());
    String[] parts = token.split("\\.");

    for (String refused : List.of(token, parts[0] + ".e30." + parts[2], "xyzxyzxyz." + parts[1] + ".zyxzyxzyx")) {
      String message = refusal(refused).getMessage();
      for (String part : refused.split("\\.")) {
        assertThat(message).doesNotContain(part);
      }
    }
  }

  private AuthenticationException refusal(String token) {
    return catchThrowableOfType(AuthenticationException.class, () -> verifier.verify(token));
  }
}
