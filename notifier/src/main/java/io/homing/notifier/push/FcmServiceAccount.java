package io.homing.notifier.push;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.interfaces.RSAPrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;

/**
 * The parts of a Google service-account JSON file that FCM's OAuth needs.
 *
 * @param projectId the Firebase project messages are sent in
 * @param clientEmail the account, the JWT's issuer
 * @param privateKey signs the JWT (RS256)
 * @param privateKeyId the JWT's {@code kid}
 * @param tokenUri where the JWT is exchanged for an access token, and the JWT's audience
 */
record FcmServiceAccount(
    String projectId,
    String clientEmail,
    RSAPrivateKey privateKey,
    String privateKeyId,
    URI tokenUri) {

  /**
   * Reads the file; {@code tokenUri}, when not null, replaces the file's {@code token_uri}.
   *
   * @throws IllegalArgumentException when a field is missing or the key is not a PKCS#8 RSA key
   */
  static FcmServiceAccount load(Path file, URI tokenUri) {
    JsonNode json;
    try {
      json = new ObjectMapper().readTree(file.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException("fcm service account: cannot read " + file, e);
    }
    return new FcmServiceAccount(
        field(json, file, "project_id"),
        field(json, file, "client_email"),
        rsaKey(field(json, file, "private_key"), file),
        field(json, file, "private_key_id"),
        tokenUri != null ? tokenUri : URI.create(field(json, file, "token_uri")));
  }

  private static String field(JsonNode json, Path file, String name) {
    String value = json.path(name).asText("");
    if (value.isBlank()) {
      throw new IllegalArgumentException(
          "fcm service account " + file + ": no " + name + " (expected: a service-account key"
              + " file from the Firebase console)");
    }
    return value;
  }

  private static RSAPrivateKey rsaKey(String pem, Path file) {
    String base64 = pem.replaceAll("-----(BEGIN|END) PRIVATE KEY-----", "").replaceAll("\\s", "");
    try {
      return (RSAPrivateKey) KeyFactory.getInstance("RSA")
          .generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(base64)));
    } catch (GeneralSecurityException | IllegalArgumentException | ClassCastException e) {
      throw new IllegalArgumentException(
          "fcm service account " + file + ": private_key is not a PKCS#8 RSA key (expected:"
              + " -----BEGIN PRIVATE KEY-----)", e);
    }
  }
}
