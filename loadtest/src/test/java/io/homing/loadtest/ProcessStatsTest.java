package io.homing.loadtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ProcessStatsTest {
  /** Fields 3 to 22 of a real line; utime (field 14) is 1500, stime (15) is 250. */
  private static final String AFTER_COMM =
      " S 1 4242 4242 0 -1 4194560 90125 0 3 0 1500 250 7 2 20 0 57 0 12345 9876543210";

  @Test
  void addsUserAndSystemTicks() {
    assertThat(ProcessStats.cpuTicks("4242 (java)" + AFTER_COMM + "\n")).isEqualTo(1750);
  }

  @Test
  void countsFieldsFromTheLastParenthesisOfTheCommandName() {
    assertThat(ProcessStats.cpuTicks("4242 (a (b) ) 9 9 9 9 9 9 9 9 9 9 9 9 9 c)" + AFTER_COMM))
        .isEqualTo(1750);
  }

  @Test
  void refusesALineWithoutCommandName() {
    assertThatThrownBy(() -> ProcessStats.cpuTicks("4242 java" + AFTER_COMM))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("expected: pid (comm)");
  }

  @Test
  void readsThisProcess() throws Exception {
    long before = ProcessStats.cpuTicks(ProcessHandle.current().pid());
    long spin = System.nanoTime() + 200_000_000L;
    while (System.nanoTime() < spin) {
      Thread.onSpinWait();
    }

    assertThat(ProcessStats.cpuTicks(ProcessHandle.current().pid())).isGreaterThan(before);
  }
}
