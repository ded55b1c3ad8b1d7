package io.homing.testing.push;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** PEM text, as key files hold it. */
final class Pem {
  private static final Base64.Encoder LINES =
      Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII));

  private Pem() {}

  /** {@code der} between the BEGIN and END lines of {@code type} (e.g. "PRIVATE KEY"). */
  static String of(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + LINES.encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }
}
