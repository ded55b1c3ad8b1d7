package io.homing.loadtest;

/** Homing over raw Kafka, measured in the same run: the ratios BENCHMARKS.md reports. */
final class Summary {
  private Summary() {}

  static String markdown(Report kafkaMax, Report homingMax, Report kafkaLatency,
      Report homingLatency) {
    StringBuilder md = new StringBuilder("### Homing vs raw Kafka, same run\n\n");
    md.append("| figure | raw Kafka | Homing | Homing / Kafka |\n|---|---|---|---|\n");
    row(md, "sustainable rate (msg/s)", kafkaMax, homingMax, "sustainable_per_s");
    for (String p : new String[] {"p50_ms", "p90_ms", "p99_ms", "p99.9_ms", "max_ms"}) {
      row(md, "latency " + p.replace("_ms", "") + " (ms) at " + homingLatency.parameters.get("rate_per_s")
          + " msg/s", kafkaLatency, homingLatency, p);
    }
    return md.toString();
  }

  private static void row(StringBuilder md, String name, Report kafka, Report homing, String key) {
    Object k = kafka.results.get(key);
    Object h = homing.results.get(key);
    String ratio = "";
    if (k instanceof Number kn && h instanceof Number hn && kn.doubleValue() != 0) {
      ratio = String.format("%.2f", hn.doubleValue() / kn.doubleValue());
    }
    md.append("| ").append(name).append(" | ").append(k).append(" | ").append(h).append(" | ")
        .append(ratio).append(" |\n");
  }
}
