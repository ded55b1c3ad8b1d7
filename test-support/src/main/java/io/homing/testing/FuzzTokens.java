package io.homing.testing;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** Tokens made from a fuzzer's bytes, for the targets that verify them. */
public final class FuzzTokens {
  private FuzzTokens() {}

  /**
   * A JWS whose header and claims are the bytes as they are, up to the first NUL and after it,
   * MACed with HS256 under the secret: the signature holds, so what the verifier makes of the
   * header and claims is what is fuzzed.
   */
  public static String hs256(byte[] rest, String secret) {
    int nul = 0;
    while (nul < rest.length && rest[nul] != 0) {
      nul++;
    }
    Base64.Encoder base64 = Base64.getUrlEncoder().withoutPadding();
    String signingInput = base64.encodeToString(Arrays.copyOfRange(rest, 0, nul)) + '.'
        + base64.encodeToString(Arrays.copyOfRange(rest, Math.min(nul + 1, rest.length),
            rest.length));
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return signingInput + '.' + base64.encodeToString(
          mac.doFinal(signingInput.getBytes(StandardCharsets.US_ASCII)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
