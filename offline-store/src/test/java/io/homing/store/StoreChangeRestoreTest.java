package io.homing.store;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Corrupt changelog records, as StoreChangeFuzzTest found them: refused with StoreException. */
class StoreChangeRestoreTest {
  @TempDir Path dir;
  private OfflineStore store;

  @AfterEach
  void close() {
    store.close();
  }

  @Test
  void refusesAMessageIdWhoseTimeIsNoU64() {
    store = OfflineStore.open(dir);
    StoreChange id = StoreChange.fromChangelog(new byte[] {3, 0, 1, 'a', 'm'}, new byte[] {1, 2});

    assertThatThrownBy(() -> store.restore(List.of(id), 1, 1))
        .isInstanceOf(StoreException.class)
        .hasMessage("corrupt value of 2 bytes (expected: a u64, 8 bytes)");
  }

  @Test
  void namesTheKeyOfACorruptMessageEvenWhenTheKeyIsNoMessageKey() {
    store = OfflineStore.open(dir);
    StoreChange message = StoreChange.fromChangelog(new byte[] {1, 0}, new byte[] {10, -1, 1});

    assertThatThrownBy(() -> store.restore(List.of(message), 1, 1))
        .isInstanceOf(StoreException.class)
        .hasMessage("corrupt message of key [0]");
  }
}
