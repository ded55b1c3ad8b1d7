package io.homing.cli;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class SendApiOptionsTest {
  @Test
  void refusesAKeyWithoutItsCertificateInsteadOfIgnoringIt() {
    // Without --tls or --tls-ca, a key alone once left the channel plaintext, the key unused.
    SendApiOptions options = CommandLine.populateCommand(new SendApiOptions(),
        "--tls-key", "client.key");

    assertThatThrownBy(() -> options.channel("127.0.0.1:7400"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("both or neither");
  }
}
