package io.homing.edge.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.BugDetectors;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.RSAKey;
import io.homing.api.Limits;
import io.homing.api.v1.AuthError;
import io.homing.runtime.auth.TokenSettings;
import io.homing.testing.FuzzTokens;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;

/**
 * The token of every Auth frame and HTTP fallback request, through the real verifier with every
 * kind of key configured (the HS256 secret and a JWK set on loopback with an RSA and an EC key).
 * A token verifies or is refused with {@code INVALID_TOKEN} or {@code EXPIRED_TOKEN} and a message
 * without the token in it; nothing else may come out, whatever the token holds.
 *
 * <p>The first byte picks what the rest is: the token itself; or a header and claims (split at
 * the first NUL) that are signed with the secret, so that the fuzzer reaches the claim checks
 * behind the signature; or claims under a valid RS256 or ES256 header, signed by the set's key.
 * See docs/fuzzing.md.
 */
class TokenVerifierFuzzTest {
  private static final RSAKey RSA = TestTokens.rsaKey("rsa-1");
  private static final ECKey EC = TestTokens.ecKey("ec-1");
  private static final JWSSigner RSA_SIGNER = TestTokens.rsaSigner(RSA);
  private static final JWSSigner EC_SIGNER = TestTokens.ecSigner(EC);
  private static JwksServer jwks;
  private static TokenVerifier verifier;

  /** Made at the first input, once the fuzzer's agent is in place. */
  private static TokenVerifier verifier() {
    if (verifier == null) {
      jwks = new JwksServer().serve(RSA, EC).start();
      verifier = new TokenVerifier(new TokenSettings(Optional.of(TestTokens.SECRET),
          Optional.of(jwks.url()), Duration.ofMinutes(5), Optional.empty(), Optional.empty()));
    }
    return verifier;
  }

  @AfterAll
  static void close() {
    if (verifier != null) {
      verifier.close();
      jwks.close();
    }
  }

  @FuzzTest
  void verifiesOrRefusesWithAClearError(byte[] input) {
    if (input.length == 0) {
      return;
    }
    // The verifier fetches its JWK set from loopback: no request the input could forge.
    BugDetectors.allowNetworkConnections(
        (host, port) -> host.equals("localhost") || host.equals("127.0.0.1"));
    byte[] rest = Arrays.copyOfRange(input, 1, input.length);
    String token = switch (input[0] & 3) {
      case 0 -> new String(rest, StandardCharsets.UTF_8);
      case 1 -> FuzzTokens.hs256(rest, TestTokens.SECRET);
      case 2 -> signed(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("rsa-1").build(),
          RSA_SIGNER, rest);
      default -> signed(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("ec-1").build(),
          EC_SIGNER, rest);
    };
    try {
      VerifiedToken verified = verifier().verify(token);
      assertThat(Limits.isValidId(verified.identity().userId())).isTrue();
      assertThat(Limits.isValidId(verified.identity().deviceId())).isTrue();
      assertThat(verified.expiresAt()).isNotNull();
    } catch (AuthenticationException refused) {
      assertThat(refused.code()).isIn(AuthError.Code.INVALID_TOKEN, AuthError.Code.EXPIRED_TOKEN);
      assertThat(refused.getMessage()).isNotBlank();
      if (token.length() >= 24) {
        assertThat(refused.getMessage()).doesNotContain(token);
      }
    }
  }

  private static String signed(JWSHeader header, JWSSigner signer, byte[] claims) {
    JWSObject jws = new JWSObject(header, new Payload(claims));
    try {
      jws.sign(signer);
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
    return jws.serialize();
  }
}
