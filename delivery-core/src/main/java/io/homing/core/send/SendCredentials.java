package io.homing.core.send;

import io.homing.runtime.auth.TokenSettings;
import io.homing.runtime.tls.ServerTls;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * What the Send API asks its callers for (docs/security.md). Immutable.
 *
 * @param apiKeys the key file of the senders' API keys and client certificates ({@link ApiKeys}),
 *     or null
 * @param tokens how sender tokens ({@link SenderTokens}) are checked, or empty to refuse JWTs
 * @param tls the Send API's TLS, or empty for plaintext; with a client CA, callers may
 *     authenticate with a client certificate that a {@code cert} line of the key file names
 */
public record SendCredentials(
    Path apiKeys, Optional<TokenSettings> tokens, Optional<ServerTls> tls) {
  /** Plaintext, and anyone may call. */
  public static final SendCredentials NONE =
      new SendCredentials(null, Optional.empty(), Optional.empty());

  public SendCredentials {
    Objects.requireNonNull(tokens, "tokens");
    Objects.requireNonNull(tls, "tls");
    if (tls.flatMap(ServerTls::clientCa).isPresent() && apiKeys == null) {
      throw new IllegalArgumentException("a client CA for the Send API (--send-tls-client-ca) "
          + "needs a key file (--send-api-keys) whose cert lines name the senders");
    }
  }

  /** The key file's senders only (API keys, no TLS). */
  public static SendCredentials apiKeys(Path file) {
    return new SendCredentials(file, Optional.empty(), Optional.empty());
  }

  /** Whether every call is taken, without credentials. */
  public boolean anyoneMayCall() {
    return apiKeys == null && tokens.isEmpty();
  }
}
