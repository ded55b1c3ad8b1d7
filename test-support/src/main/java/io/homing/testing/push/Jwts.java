package io.homing.testing.push;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Base64;

/** Checks a compact JWS the way the fakes' real counterparts do, with the JDK alone. */
final class Jwts {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Jwts() {}

  /**
   * The claims of {@code jwt}, once its header names {@code alg} and {@code kid} and its
   * signature verifies with {@code key} by one of {@code jca} (the JDK's names of the signature
   * algorithm, in the encodings accepted).
   *
   * @throws IllegalArgumentException saying what is wrong
   */
  static JsonNode verify(String jwt, String alg, String kid, PublicKey key, String... jca) {
    String[] parts = jwt.split("\\.", -1);
    if (parts.length != 3) {
      throw new IllegalArgumentException("not a compact JWS");
    }
    JsonNode header = json(parts[0]);
    if (!header.path("alg").asText().equals(alg)) {
      throw new IllegalArgumentException("alg " + header.path("alg") + ", expected " + alg);
    }
    if (!header.path("kid").asText().equals(kid)) {
      throw new IllegalArgumentException("kid " + header.path("kid") + ", expected " + kid);
    }
    byte[] signed = (parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII);
    byte[] signature = Base64.getUrlDecoder().decode(parts[2]);
    for (String algorithm : jca) {
      try {
        Signature verifier = Signature.getInstance(algorithm);
        verifier.initVerify(key);
        verifier.update(signed);
        if (verifier.verify(signature)) {
          return json(parts[1]);
        }
      } catch (GeneralSecurityException e) {
        // Not this encoding (a signature of the wrong length or form): try the next.
      }
    }
    throw new IllegalArgumentException("bad signature");
  }

  private static JsonNode json(String base64Url) {
    try {
      return JSON.readTree(Base64.getUrlDecoder().decode(base64Url));
    } catch (IOException | IllegalArgumentException e) {
      throw new IllegalArgumentException("not base64url JSON: " + e.getMessage(), e);
    }
  }
}
