package io.homing.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CpuMeterTest {
  private static final int TICKS_PER_SECOND = 100;

  @Test
  void dividesTheTicksSpentByTheMessagesDelivered() {
    CpuMeter meter = meter(Set.of(), source("core", "core", 1), source("edges", "edge 1", 2),
        source("edges", "edge 2", 3), source("broker", "broker", 4));

    Map<String, Object> perMessage = meter.perMessage(
        ticks(1, 100, 2, 100, 3, 100, 4, 100), ticks(1, 150, 2, 110, 3, 120, 4, 200), 1000);

    // 50 ticks = 0.5 s = 500,000 µs over 1,000 messages.
    assertThat(perMessage).containsExactly(
        Map.entry("core_cpu_us_per_msg", 500.0),
        Map.entry("edges_cpu_us_per_msg", 300.0),
        Map.entry("core_edges_cpu_us_per_msg", 800.0),
        Map.entry("broker_cpu_us_per_msg", 1000.0));
  }

  @Test
  void countsAProcessInSeveralRolesOncePerFigureAndSaysSo() {
    CpuMeter meter = meter(Set.of(), source("core", "core", 7), source("edges", "edge 1", 7),
        source("edges", "edge 2", 7), source("broker", "broker", 7));

    Map<String, Object> perMessage = meter.perMessage(ticks(7, 0), ticks(7, 10), 100);

    assertThat(perMessage).containsOnly(
        Map.entry("core_cpu_us_per_msg", 1000.0),
        Map.entry("edges_cpu_us_per_msg", 1000.0),
        Map.entry("core_edges_cpu_us_per_msg", 1000.0),
        Map.entry("broker_cpu_us_per_msg", 1000.0));
    assertThat(meter.note()).isEqualTo("pid 7 is core, edge 1, edge 2, broker: one process, "
        + "counted once per figure");
  }

  @Test
  void leavesOutTheFiguresOfARoleNotFound() {
    CpuMeter meter = meter(Set.of("edges"), source("core", "core", 1),
        source("edges", "edge 1", 2), source("broker", "broker", 4));

    assertThat(meter.perMessage(ticks(1, 0, 2, 0, 4, 0), ticks(1, 1, 2, 1, 4, 1), 10))
        .containsOnlyKeys("core_cpu_us_per_msg", "broker_cpu_us_per_msg");
  }

  @Test
  void leavesOutAProcessThatCouldNotBeRead() {
    CpuMeter meter = meter(Set.of(), source("core", "core", 1), source("broker", "broker", 4));

    assertThat(meter.perMessage(ticks(1, 0, 4, 0), ticks(4, 1), 10))
        .containsOnlyKeys("broker_cpu_us_per_msg");
  }

  @Test
  void theBrokerAloneForRawKafka() {
    CpuMeter meter = meter(Set.of(), source("core", "core", 1), source("broker", "broker", 4))
        .brokerOnly();

    assertThat(meter.pids()).isEqualTo("broker 4");
    assertThat(meter.perMessage(ticks(1, 0, 4, 0), ticks(1, 1, 4, 1), 10))
        .containsOnlyKeys("broker_cpu_us_per_msg");
  }

  @Test
  void nothingDeliveredNoFigures() {
    CpuMeter meter = meter(Set.of(), source("core", "core", 1));

    assertThat(meter.perMessage(ticks(1, 0), ticks(1, 5), 0)).isEmpty();
  }

  private static CpuMeter meter(Set<String> notFound, CpuMeter.Source... sources) {
    return new CpuMeter(List.of(sources), notFound, TICKS_PER_SECOND);
  }

  private static CpuMeter.Source source(String role, String label, long pid) {
    return new CpuMeter.Source(role, label, pid);
  }

  /** Pid, ticks, pid, ticks, … */
  private static CpuMeter.Snapshot ticks(long... pidsAndTicks) {
    Map<Long, Long> ticks = new HashMap<>();
    for (int i = 0; i < pidsAndTicks.length; i += 2) {
      ticks.put(pidsAndTicks[i], pidsAndTicks[i + 1]);
    }
    return new CpuMeter.Snapshot(ticks);
  }
}
