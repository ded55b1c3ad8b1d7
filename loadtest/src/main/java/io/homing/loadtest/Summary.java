package io.homing.loadtest;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Homing over raw Kafka, measured in the same run: the ratios BENCHMARKS.md reports. */
final class Summary {
  private static final String[] PERCENTILES = {"p50", "p90", "p99", "p99.9", "max"};
  /** The CPU figures' keys, without {@code _cpu_us_per_msg}, and their names. */
  private static final List<Map.Entry<String, String>> CPU = List.of(
      Map.entry("core", "core"), Map.entry("edges", "edges"),
      Map.entry("core_edges", "core+edges"), Map.entry("broker", "broker"));

  private Summary() {}

  /**
   * The table; the latency lists pair up by index (the same rate), and the correctness row sums
   * every run of each side, Homing's backlog included.
   */
  static String markdown(Report kafkaMax, Report homingMax, List<Report> kafkaLatency,
      List<Report> homingLatency, Report backlog) {
    StringBuilder md = new StringBuilder("### Homing vs raw Kafka, same run\n\n");
    md.append("| figure | raw Kafka | Homing | Homing / Kafka |\n|---|---|---|---|\n");
    row(md, "sustainable rate, p99 ≤ " + number(homingMax.parameters.get("max_p99_ms"))
        + " ms (msg/s)", kafkaMax, homingMax, "sustainable_per_s");
    row(md, "highest rate delivery keeps up with, p99 ignored (msg/s)", kafkaMax, homingMax,
        "keeps_up_per_s");
    for (int i = 0; i < homingLatency.size(); i++) {
      Report kafka = kafkaLatency.get(i);
      Report homing = homingLatency.get(i);
      String at = " at " + number(homing.parameters.get("rate_per_s")) + " msg/s";
      for (String p : PERCENTILES) {
        row(md, "latency " + p + " (ms)" + at, kafka, homing, p + "_ms");
      }
      for (Map.Entry<String, String> cpu : CPU) {
        row(md, "CPU µs per delivered message, " + cpu.getValue() + at, kafka, homing,
            cpu.getKey() + "_cpu_us_per_msg");
      }
    }
    List<Report> kafkaRuns = new ArrayList<>(kafkaLatency);
    kafkaRuns.add(kafkaMax);
    List<Report> homingRuns = new ArrayList<>(homingLatency);
    homingRuns.add(homingMax);
    homingRuns.add(backlog);
    md.append("| seq conflicts / lost / duplicated / out of order, all runs | ")
        .append(correctness(kafkaRuns)).append(" | ").append(correctness(homingRuns))
        .append(" | |\n");
    Object note = homingMax.results.get("cpu_note");
    if (note != null) {
      md.append("\nCPU: ").append(note).append(".\n");
    }
    return md.toString();
  }

  /** A rate or threshold as written: 2000, not 2000.0; 0.5 stays 0.5. */
  static String number(Object value) {
    return value instanceof Number n
        ? new BigDecimal(n.toString()).stripTrailingZeros().toPlainString()
        : String.valueOf(value);
  }

  private static void row(StringBuilder md, String name, Report kafka, Report homing, String key) {
    Object k = kafka.results.get(key);
    Object h = homing.results.get(key);
    String ratio = "";
    if (k instanceof Number kn && h instanceof Number hn && kn.doubleValue() != 0) {
      ratio = String.format("%.2f", hn.doubleValue() / kn.doubleValue());
    }
    md.append("| ").append(name).append(" | ").append(k == null ? "–" : k).append(" | ")
        .append(h == null ? "–" : h).append(" | ").append(ratio).append(" |\n");
  }

  private static String correctness(List<Report> runs) {
    long conflicts = 0;
    long lost = 0;
    long duplicated = 0;
    long outOfOrder = 0;
    for (Report r : runs) {
      conflicts += r.correctness.seqConflicts();
      lost += r.correctness.lost();
      duplicated += r.correctness.duplicated();
      outOfOrder += r.correctness.outOfOrder();
    }
    return conflicts + " / " + lost + " / " + duplicated + " / " + outOfOrder;
  }
}
