package io.homing.store;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;

/**
 * A record of the store's changelog topic, as a restore reads it: any key and value either make
 * a change whose changelog key is the record's key again, or fail with IllegalArgumentException;
 * restoring a change into a real store succeeds or fails with {@link StoreException} (a corrupt
 * value), and never with anything else. The first byte says where the key ends; a last byte
 * with the high bit set makes the value null (a tombstone). See docs/fuzzing.md.
 */
class StoreChangeFuzzTest {
  private static OfflineStore store;

  @AfterAll
  static void close() {
    if (store != null) {
      store.close();
    }
  }

  @FuzzTest
  void restoresChangesOrRefusesThemClearly(byte[] input) throws IOException {
    if (input.length < 2) {
      return;
    }
    int keyEnd = Math.min(input.length, 1 + (input[0] & 0xff));
    byte[] key = Arrays.copyOfRange(input, 1, keyEnd);
    byte[] value = (input[input.length - 1] & 0x80) != 0 ? null
        : Arrays.copyOfRange(input, keyEnd, input.length);
    StoreChange change;
    try {
      change = StoreChange.fromChangelog(key, value);
    } catch (IllegalArgumentException refused) {
      return;
    }
    assertThat(change.changelogKey()).isEqualTo(key);
    assertThat(change.isDelete()).isEqualTo(value == null);
    if (store == null) {
      store = OfflineStore.open(Files.createTempDirectory("store-change-fuzz"));
    }
    try {
      store.restore(List.of(change), 1, 1);
    } catch (StoreException corrupt) {
      assertThat(corrupt.getMessage()).isNotBlank();
    }
  }
}
