package io.homing.edge.auth;

import static io.homing.edge.auth.TestTokens.SECRET;
import static io.homing.edge.auth.TestTokens.claims;
import static io.homing.edge.auth.TestTokens.es256;
import static io.homing.edge.auth.TestTokens.hs256;
import static io.homing.edge.auth.TestTokens.rs256;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.OctetSequenceKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64URL;
import io.homing.api.v1.AuthError;
import io.homing.runtime.auth.TokenSettings;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** RS256 and ES256 tokens checked against a real JWK set endpoint on loopback. */
class TokenVerifierJwksTest {
  private static final RSAKey RSA = TestTokens.rsaKey("rsa-1");
  private static final RSAKey RSA_NEXT = TestTokens.rsaKey("rsa-2");
  private static final ECKey EC = TestTokens.ecKey("ec-1");
  private static final Identity ALICE = new Identity("alice", "phone");

  private final JwksServer jwks = new JwksServer().serve(RSA, EC);
  private TokenVerifier verifier;

  @AfterEach
  void close() {
    if (verifier != null) {
      verifier.close();
    }
    jwks.close();
  }

  @Test
  void acceptsRs256AndEs256TokensAndReadsTheirExpiry() throws Exception {
    jwks.start();
    verifier = verifier(Optional.empty(), Duration.ofMinutes(5));
    Instant expiry = Instant.now().plusSeconds(60).truncatedTo(ChronoUnit.SECONDS);

    assertThat(verifier.verify(rs256(RSA, claims().expirationTime(Date.from(expiry)))))
        .isEqualTo(new VerifiedToken(ALICE, expiry));
    assertThat(verifier.verify(es256(EC, claims())).identity()).isEqualTo(ALICE);
    assertThat(jwks.fetches()).isEqualTo(1);
  }

  @Test
  void acceptsATokenWithoutKidSignedByAnyKeyOfTheSet() throws Exception {
    jwks.start();
    verifier = verifier(Optional.empty(), Duration.ofMinutes(5));
    String token = TestTokens.sign(new JWSHeader(JWSAlgorithm.ES256),
        TestTokens.ecSigner(EC), claims());

    assertThat(verifier.verify(token).identity()).isEqualTo(ALICE);
  }

  @Test
  void acceptsHs256AndJwksTokensWhenBothAreConfigured() throws Exception {
    jwks.start();
    verifier = verifier(Optional.of(SECRET), Duration.ofMinutes(5));

    assertThat(verifier.verify(hs256(SECRET, claims())).identity()).isEqualTo(ALICE);
    assertThat(verifier.verify(rs256(RSA, claims())).identity()).isEqualTo(ALICE);
    assertThat(verifier.verify(es256(EC, claims())).identity()).isEqualTo(ALICE);
  }

  @Test
  void refusesAnExpiredRs256Token() {
    jwks.start();
    verifier = verifier(Optional.empty(), Duration.ofMinutes(5));

    AuthenticationException e =
        refusal(rs256(RSA, claims().expirationTime(Date.from(Instant.now().minusSeconds(60)))));
    assertThat(e.code()).isEqualTo(AuthError.Code.EXPIRED_TOKEN);
    assertThat(e.getMessage()).startsWith("token expired at");
  }

  @Test
  void verifiesANewKidOnceTheEndpointServesItWithoutARestart() throws Exception {
    jwks.start();
    verifier = verifier(Optional.empty(), Duration.ofMinutes(5));
    String rotated = rs256(RSA_NEXT, claims());

    jwks.serve(RSA_NEXT, EC);

    assertThat(verifier.verify(rotated).identity()).isEqualTo(ALICE);
    assertThat(jwks.fetches()).isEqualTo(2);
    assertThat(verifier.verify(rotated).identity()).isEqualTo(ALICE);
    assertThat(jwks.fetches()).isEqualTo(2);
  }

  @Test
  void refusesAnUnknownKidAfterFetchingTheSetAgain() {
    jwks.start();
    verifier = verifier(Optional.empty(), Duration.ofMinutes(5));

    AuthenticationException e = refusal(rs256(RSA_NEXT, claims()));

    assertThat(e.code()).isEqualTo(AuthError.Code.INVALID_TOKEN);
    assertThat(e.getMessage()).contains("no matching key");
    assertThat(jwks.fetches()).isEqualTo(2);
  }

  @Test
  void fetchesAtMostTwiceARateLimitIntervalHoweverManyUnknownKids() {
    jwks.start();
    verifier = verifier(Optional.empty(), Duration.ofMinutes(5));

    for (int i = 0; i < 20; i++) {
      assertThat(refusal(rs256(TestTokens.rsaKeyFrom(RSA_NEXT, "unknown-" + i), claims())).code())
          .isEqualTo(AuthError.Code.INVALID_TOKEN);
    }

    assertThat(jwks.fetches()).isEqualTo(2);
    assertThat(refusal(rs256(RSA_NEXT, claims())).getMessage())
        .isEqualTo("token refused: no key matches it, and the JWK set was fetched too recently"
            + " to fetch it again");
  }

  @Test
  void refreshesTheSetInTheBackgroundBeforeItExpires() throws Exception {
    jwks.start();
    verifier = verifier(Optional.empty(), Duration.ofSeconds(2));
    jwks.serve(RSA, RSA_NEXT, EC);

    // Fetched again at 2 s - 2 s / 5 - 1 s = 0.6 s, with no token asking for it.
    await().atMost(Duration.ofSeconds(3)).until(() -> jwks.fetches() >= 2);
    int fetched = jwks.fetches();

    assertThat(verifier.verify(rs256(RSA_NEXT, claims())).identity()).isEqualTo(ALICE);
    assertThat(jwks.fetches()).isEqualTo(fetched);
  }

  @Test
  void keepsUsingCachedKeysWhileTheEndpointIsDown() throws Exception {
    jwks.start();
    verifier = verifier(Optional.empty(), Duration.ofSeconds(2));
    jwks.stop();

    assertThat(verifier.verify(rs256(RSA, claims())).identity()).isEqualTo(ALICE);
    // Past the cache's lifetime the failed fetches fall back on the set fetched before.
    Thread.sleep(3_000);
    assertThat(verifier.verify(rs256(RSA, claims())).identity()).isEqualTo(ALICE);
    assertThat(verifier.verify(es256(EC, claims())).identity()).isEqualTo(ALICE);
    assertThat(refusal(rs256(RSA_NEXT, claims())).code())
        .isEqualTo(AuthError.Code.INVALID_TOKEN);
  }

  @Test
  void refusesJwksTokensWhileNoKeysWereEverFetchedThenAcceptsThemOnceTheEndpointAnswers() throws Exception {
    verifier = verifier(Optional.of(SECRET), Duration.ofSeconds(2));

    AuthenticationException e = refusal(rs256(RSA, claims()));
    assertThat(e.code()).isEqualTo(AuthError.Code.INVALID_TOKEN);
    assertThat(e.getMessage())
        .isEqualTo("token refused: the JWK set to check it with is unavailable");
    assertThat(verifier.verify(hs256(SECRET, claims())).identity()).isEqualTo(ALICE);

    jwks.start();

    await()
        .atMost(Duration.ofSeconds(5))
        .pollInterval(Duration.ofMillis(200))
        .ignoreExceptions()
        .until(() -> verifier.verify(rs256(RSA, claims())).identity().equals(ALICE));
  }

  @Test
  void refusesTheWrongIssuerOrAudience() throws Exception {
    jwks.start();
    verifier = new TokenVerifier(new TokenSettings(Optional.empty(), Optional.of(jwks.url()),
        Duration.ofMinutes(5), Optional.of("https://auth.example"), Optional.of("homing")));

    assertThat(verifier.verify(
        rs256(RSA, claims().issuer("https://auth.example").audience("homing"))).identity())
        .isEqualTo(ALICE);
    assertThat(refusal(rs256(RSA, claims().issuer("https://evil.example").audience("homing")))
        .getMessage()).isEqualTo("token refused: JWT iss claim value rejected");
    assertThat(refusal(es256(EC, claims().issuer("https://auth.example").audience("other")))
        .getMessage()).isEqualTo("token refused: JWT aud claim rejected");
  }

  @Test
  void refusesAlgNone() {
    jwks.start();
    verifier = verifier(Optional.of(SECRET), Duration.ofMinutes(5));
    String signed = rs256(RSA, claims());
    String[] parts = signed.split("\\.");
    String noneHeader = Base64URL.encode("{\"alg\":\"none\",\"kid\":\"rsa-1\"}").toString();

    for (String token : new String[] {
        noneHeader + "." + parts[1] + ".", noneHeader + "." + parts[1] + "." + parts[2]}) {
      AuthenticationException e = refusal(token);
      assertThat(e.code()).isEqualTo(AuthError.Code.INVALID_TOKEN);
      assertThat(e.getMessage()).isEqualTo("token refused: not a well-formed signed JWT");
    }
  }

  @Test
  void refusesAnHs256TokenSignedWithAPublicKey() throws Exception {
    jwks.start();
    byte[] publicKey = RSA.toRSAPublicKey().getEncoded();
    String confused = TestTokens.sign(
        new JWSHeader.Builder(JWSAlgorithm.HS256).keyID(RSA.getKeyID()).build(),
        TestTokens.hmac(publicKey), claims());

    verifier = verifier(Optional.empty(), Duration.ofMinutes(5));
    assertThat(refusal(confused).getMessage())
        .isEqualTo("token refused: alg HS256 (expected: one of [RS256, ES256])");
    verifier.close();

    verifier = verifier(Optional.of(SECRET), Duration.ofMinutes(5));
    assertThat(refusal(confused).getMessage()).contains("Invalid signature");
  }

  @Test
  void neverTakesAnOctKeyOfTheSetAsAnHmacSecret() {
    OctetSequenceKey oct = new OctetSequenceKey.Builder(new byte[32]).keyID("oct-1").build();
    jwks.serve(RSA, EC, oct).start();
    String token = TestTokens.sign(
        new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("oct-1").build(),
        TestTokens.hmac(new byte[32]), claims());

    verifier = verifier(Optional.of(SECRET), Duration.ofMinutes(5));

    assertThat(refusal(token).getMessage()).contains("Invalid signature");
  }

  @Test
  void refusesAKeyOfTheWrongTypeAndAZeroEcdsaSignature() {
    jwks.start();
    verifier = verifier(Optional.empty(), Duration.ofMinutes(5));
    // RS256 naming the EC key: no RSA key has that kid.
    String wrongType = TestTokens.sign(
        new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(EC.getKeyID()).build(),
        TestTokens.rsaSigner(RSA), claims());
    String[] parts = es256(EC, claims()).split("\\.");
    String zeroSignature = parts[0] + "." + parts[1] + "." + Base64URL.encode(new byte[64]);

    assertThat(refusal(wrongType).code()).isEqualTo(AuthError.Code.INVALID_TOKEN);
    assertThat(refusal(zeroSignature).code()).isEqualTo(AuthError.Code.INVALID_TOKEN);
  }

  private TokenVerifier verifier(Optional<String> secret, Duration refresh) {
    return new TokenVerifier(new TokenSettings(secret, Optional.of(jwks.url()), refresh,
        Optional.empty(), Optional.empty()));
  }

  private AuthenticationException refusal(String token) {
    return catchThrowableOfType(AuthenticationException.class, () -> verifier.verify(token));
  }
}
