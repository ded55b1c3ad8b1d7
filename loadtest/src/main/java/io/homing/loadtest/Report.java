package io.homing.loadtest;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The outcome of one scenario run, written as JSON (for machines), a Markdown table (for
 * BENCHMARKS.md) and PNG charts of throughput and latency over time.
 */
final class Report {
  private static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC);

  final String scenario;
  final Map<String, Object> parameters = new LinkedHashMap<>();
  final Map<String, Object> results = new LinkedHashMap<>();
  DeliveryRecorder.Correctness correctness;
  List<DeliveryRecorder.Sample> samples = List.of();

  Report(String scenario) {
    this.scenario = scenario;
  }

  Report parameter(String name, Object value) {
    parameters.put(name, value);
    return this;
  }

  Report result(String name, Object value) {
    results.put(name, value);
    return this;
  }

  /** Records p50, p90, p99, p99.9 and max of the histogram, in milliseconds. */
  Report latency(String prefix, Histogram h) {
    if (h.getTotalCount() == 0) {
      return this;
    }
    result(prefix + "p50_ms", millis(h.getValueAtPercentile(50)));
    result(prefix + "p90_ms", millis(h.getValueAtPercentile(90)));
    result(prefix + "p99_ms", millis(h.getValueAtPercentile(99)));
    result(prefix + "p99.9_ms", millis(h.getValueAtPercentile(99.9)));
    result(prefix + "max_ms", millis(h.getMaxValue()));
    return this;
  }

  /** CPU per message, which pids it is of, and a note if one process plays several roles. */
  Report cpu(CpuMeter meter, Map<String, Object> perMessage) {
    parameter("cpu_pids", meter.pids());
    perMessage.forEach(this::result);
    if (!meter.note().isEmpty()) {
      result("cpu_note", meter.note());
    }
    return this;
  }

  Report recorder(DeliveryRecorder recorder) {
    correctness = recorder.correctness();
    samples = recorder.samples();
    return this;
  }

  /** Writes the report's files into {@code dir}; returns the JSON file. */
  Path write(Path dir) {
    try {
      Files.createDirectories(dir);
      String base = scenario + "-" + STAMP.format(Instant.now());
      Map<String, Object> json = new LinkedHashMap<>();
      json.put("scenario", scenario);
      json.put("machine", machine());
      json.put("parameters", parameters);
      json.put("results", results);
      json.put("correctness", correctness);
      json.put("samples", samples);
      Path jsonFile = dir.resolve(base + ".json");
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(jsonFile.toFile(), json);
      Files.writeString(dir.resolve(base + ".md"), markdown());
      if (!samples.isEmpty()) {
        chart(dir.resolve(base + "-throughput.png"), "Throughput", "messages/s",
            series("sent", DeliveryRecorder.Sample::sentPerSecond),
            series("delivered", DeliveryRecorder.Sample::deliveredPerSecond));
        chart(dir.resolve(base + "-latency.png"), "Latency per second", "ms",
            series("p50", DeliveryRecorder.Sample::p50Millis),
            series("p99", DeliveryRecorder.Sample::p99Millis));
      }
      return jsonFile;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the report to " + dir, e);
    }
  }

  String markdown() {
    StringBuilder md = new StringBuilder();
    md.append("### ").append(scenario).append("\n\n");
    md.append("| parameter | value |\n|---|---|\n");
    parameters.forEach((k, v) -> md.append("| ").append(k).append(" | ").append(v).append(" |\n"));
    md.append("\n| result | value |\n|---|---|\n");
    results.forEach((k, v) -> md.append("| ").append(k).append(" | ").append(v).append(" |\n"));
    if (correctness != null) {
      md.append("| sent | ").append(correctness.sent()).append(" |\n");
      md.append("| received | ").append(correctness.received()).append(" |\n");
      md.append("| lost | ").append(correctness.lost()).append(" |\n");
      md.append("| duplicated | ").append(correctness.duplicated()).append(" |\n");
      md.append("| out of order | ").append(correctness.outOfOrder()).append(" |\n");
      md.append("| seq conflicts | ").append(correctness.seqConflicts()).append(" |\n");
    }
    return md.toString();
  }

  private XYSeries series(String name, java.util.function.ToDoubleFunction<DeliveryRecorder.Sample> f) {
    XYSeries series = new XYSeries(name);
    samples.forEach(s -> series.add(s.atSeconds(), f.applyAsDouble(s)));
    return series;
  }

  private void chart(Path file, String title, String unit, XYSeries... series) throws IOException {
    XYSeriesCollection data = new XYSeriesCollection();
    for (XYSeries s : series) {
      data.addSeries(s);
    }
    JFreeChart chart =
        ChartFactory.createXYLineChart(scenario + ": " + title, "seconds", unit, data);
    ChartUtils.saveChartAsPNG(file.toFile(), chart, 900, 450);
  }

  static double millis(long micros) {
    return Math.round(micros / 10.0) / 100.0;
  }

  /** Two decimals are all a noisy machine's figures deserve. */
  static double round(double v) {
    return Math.round(v * 100) / 100.0;
  }

  private static Map<String, Object> machine() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("cores", Runtime.getRuntime().availableProcessors());
    m.put("java", System.getProperty("java.version"));
    m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
    return m;
  }
}
