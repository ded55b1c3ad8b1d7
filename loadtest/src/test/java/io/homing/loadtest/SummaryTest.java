package io.homing.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class SummaryTest {
  @Test
  void putsHomingOverKafkaForBothRatesAndEachLatencyRate() {
    Report kafkaMax = run("kafka-baseline-throughput", 0).result("sustainable_per_s", 20000L)
        .result("keeps_up_per_s", 40000L);
    Report homingMax = run("throughput", 0).parameter("max_p99_ms", 100.0)
        .result("sustainable_per_s", 2000L).result("keeps_up_per_s", 10000L);
    Report kafka100 = latency("kafka-baseline-latency-100", 100.0, 2.0)
        .result("broker_cpu_us_per_msg", 10.0);
    Report homing100 = latency("latency-100", 100.0, 5.0).result("core_cpu_us_per_msg", 60.0)
        .result("broker_cpu_us_per_msg", 40.0);

    String md = Summary.markdown(kafkaMax, homingMax, List.of(kafka100), List.of(homing100),
        run("backlog", 3));

    assertThat(md)
        .contains("| sustainable rate, p99 ≤ 100 ms (msg/s) | 20000 | 2000 | 0.10 |")
        .contains("| highest rate delivery keeps up with, p99 ignored (msg/s) | 40000 | 10000 "
            + "| 0.25 |")
        .contains("| latency p50 (ms) at 100 msg/s | 2.0 | 5.0 | 2.50 |")
        .contains("| CPU µs per delivered message, core at 100 msg/s | – | 60.0 |  |")
        .contains("| CPU µs per delivered message, broker at 100 msg/s | 10.0 | 40.0 | 4.00 |")
        .contains("| seq conflicts / lost / duplicated / out of order, all runs | 0 / 0 / 0 / 0 "
            + "| 3 / 0 / 0 / 0 | |")
        .doesNotContain("CPU:");
  }

  @Test
  void passesOnTheCpuNote() {
    Report homingMax =
        run("throughput", 0).result("cpu_note", "pid 7 is core, broker: one process");

    assertThat(Summary.markdown(run("kafka-baseline-throughput", 0), homingMax, List.of(),
        List.of(), run("backlog", 0)))
        .endsWith("\nCPU: pid 7 is core, broker: one process.\n");
  }

  @Test
  void writesNumbersAsWritten() {
    assertThat(Summary.number(2000.0)).isEqualTo("2000");
    assertThat(Summary.number(0.5)).isEqualTo("0.5");
    assertThat(Summary.number(150L)).isEqualTo("150");
  }

  private static Report latency(String name, double rate, double p50) {
    return run(name, 0).parameter("rate_per_s", rate).result("p50_ms", p50);
  }

  private static Report run(String name, long seqConflicts) {
    Report report = new Report(name);
    report.correctness = new DeliveryRecorder.Correctness(10, 10, 0, 0, 0, seqConflicts);
    return report;
  }
}
