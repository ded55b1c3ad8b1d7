package io.homing.core.send;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.homing.api.ApiKey;
import java.nio.file.Path;

/**
 * The Send API's key file, whatever an operator (or a broken editor) left in it: it parses or
 * is refused with IllegalArgumentException naming the file; what parses finds no sender for a
 * key no line names, and every sender it has is one a line of the file could name. See
 * docs/fuzzing.md.
 */
class ApiKeysFuzzTest {
  private static final Path FILE = Path.of("api-keys");

  @FuzzTest
  void parsesKeyFilesOrNamesWhatIsWrong(byte[] input) {
    ApiKeys keys;
    try {
      keys = ApiKeys.parse(FILE, input);
    } catch (IllegalArgumentException refused) {
      assertThat(refused).hasMessageStartingWith(FILE.toString());
      return;
    }
    assertThat(keys.size()).isPositive();
    // A key made now: the fuzzer learns the strings the code compares with, so a fixed key's
    // hash could be in the input (it once was).
    assertThat(keys.sender(ApiKey.generate())).isNull();
    Sender sender = keys.sender("password");
    if (sender != null) {
      assertThat(ApiKey.invalidSender(sender.name(), String.join(",", sender.recipients())))
          .isNull();
    }
  }
}
