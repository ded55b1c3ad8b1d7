package io.homing.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.homing.loadtest.LoadTestMain;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each benchmark scenario, seconds long and with a handful of users, against a whole in-process
 * deployment: proves the harness works. The real runs are in BENCHMARKS.md, never in the suite.
 */
class LoadTestSmokeIT {
  @RegisterExtension static final TestCluster cluster = TestCluster.perClass(2);

  /** The in-process deployment's pid: core, edges and broker all run in this JVM. */
  private static final String SELF = Long.toString(ProcessHandle.current().pid());
  private static final String[] CPU_FIGURES = {"core_cpu_us_per_msg", "edges_cpu_us_per_msg",
      "core_edges_cpu_us_per_msg", "broker_cpu_us_per_msg"};

  @TempDir Path reports;

  @Test
  void latencyScenarioDeliversEverythingOnceAndInOrder() throws IOException {
    JsonNode report = run("latency", withPids("--users", "20", "--rate", "200", "--seconds", "2",
        "--warmup-seconds", "1"));

    assertThat(report.at("/results/p50_ms").asDouble()).isPositive();
    assertCorrect(report, 500);
  }

  @Test
  void latencyScenarioReportsCpuPerDeliveredMessage() throws IOException {
    JsonNode report = run("latency", withPids("--users", "10", "--rate", "100", "--seconds", "2",
        "--warmup-seconds", "1"));

    // Core, edges, broker and generator are this JVM, which surely spent CPU in two seconds.
    for (String figure : CPU_FIGURES) {
      assertThat(report.at("/results/" + figure).asDouble()).as(figure).isPositive();
    }
    assertThat(report.at("/results/cpu_note").asText())
        .isEqualTo("pid " + SELF + " is core, edge 1, edge 2, broker, this load generator: "
            + "one process, counted once per figure");
  }

  @Test
  void latencyScenarioThroughTheSendApi() throws IOException {
    JsonNode report = run("latency", withPids("--via", "send-api", "--users", "10", "--rate",
        "100", "--seconds", "2", "--warmup-seconds", "1"));

    assertCorrect(report, 300);
  }

  @Test
  void throughputScenarioStepsTheRate() throws IOException {
    // Mechanics, not performance: a cold JVM on a busy machine may well take 100 ms.
    JsonNode report = run("throughput", withPids("--users", "10", "--start-rate", "100",
        "--factor", "2", "--max-rate", "200", "--max-p99-ms", "10000", "--step-seconds", "1",
        "--warmup-seconds", "1"));

    assertThat(report.at("/results/steps")).hasSize(2);
    assertThat(report.at("/results/steps")).allSatisfy(step -> {
      assertThat(step.get("attempt").asInt()).isEqualTo(1);
      assertThat(step.get("pass").asBoolean()).isTrue();
      assertThat(step.has("core_edges_cpu_us_per_msg")).isTrue();
    });
    long sustainable = report.at("/results/sustainable_per_s").asLong();
    assertThat(sustainable).isPositive();
    assertThat(report.at("/results/keeps_up_per_s").asLong()).isEqualTo(sustainable);
    assertThat(report.at("/results/keeps_up_p99_ms").isNumber()).isTrue();
    assertNoSeqConflicts(report);
    assertThat(report.at("/correctness/lost").asLong()).isZero();
  }

  @Test
  void throughputScenarioRetriesAFailedStepOnceAndStepsOnWhileDeliveryKeepsUp()
      throws IOException {
    // No p99 is 0 ms: every step fails on p99, and is retried, but delivery keeps up.
    JsonNode report = run("throughput", withPids("--users", "10", "--start-rate", "100",
        "--factor", "2", "--max-rate", "200", "--max-p99-ms", "0", "--step-seconds", "1",
        "--warmup-seconds", "1", "--retry-pause-seconds", "0"));

    JsonNode steps = report.at("/results/steps");
    assertThat(steps).extracting(s -> s.get("target_per_s").asLong() + "/" + s.get("attempt"))
        .containsExactly("100/1", "100/2", "200/1", "200/2");
    assertThat(steps).allSatisfy(step -> {
      assertThat(step.get("pass").asBoolean()).isFalse();
      assertThat(step.get("keeps_up").asBoolean()).isTrue();
    });
    assertThat(report.at("/results/sustainable_per_s").asLong()).isZero();
    assertThat(report.at("/results/at_sustainable_p99_ms").isMissingNode()).isTrue();
    assertThat(report.at("/results/keeps_up_per_s").asLong()).isPositive();
    assertThat(report.at("/results/keeps_up_p50_ms").asDouble()).isPositive();
    assertNoSeqConflicts(report);
  }

  @Test
  void backlogScenarioDrainsQueuedMessages() throws IOException {
    JsonNode report = run("backlog", "--users", "5", "--messages", "40");

    assertThat(report.at("/results/all_delivered_seconds").asDouble()).isPositive();
    assertCorrect(report, 200);
  }

  @Test
  void kafkaBaselineMeasuresRawKafka() throws IOException {
    assertThat(LoadTestMain.run(args("kafka-baseline", "--users", "10", "--start-rate", "100",
        "--max-rate", "100", "--step-seconds", "1", "--warmup-seconds", "1", "--rate", "100",
        "--seconds", "1", "--broker-pid", SELF))).isZero();

    List<JsonNode> written = reports("kafka-baseline-");
    assertThat(written).hasSize(2);
    assertThat(written).allSatisfy(r -> {
      assertThat(r.at("/correctness/lost").asLong()).isZero();
      assertNoSeqConflicts(r);
    });
    JsonNode throughput = reports("kafka-baseline-throughput-").get(0);
    assertThat(throughput.at("/results/sustainable_per_s").asLong()).isPositive();
    assertThat(throughput.at("/results/keeps_up_per_s").asLong()).isPositive();
    JsonNode latency = reports("kafka-baseline-latency-").get(0);
    assertThat(latency.at("/results/broker_cpu_us_per_msg").asDouble()).isPositive();
    assertThat(latency.at("/results/core_cpu_us_per_msg").isMissingNode()).isTrue();
  }

  @Test
  void connectionsScenarioMeasuresTheEdge() throws IOException {
    JsonNode report = run("connections", "--count", "50", "--hold-seconds", "0",
        "--edge-pid", SELF);

    assertThat(report.at("/results/connected").asInt()).isEqualTo(50);
    assertThat(report.at("/results/failed").asInt()).isZero();
    assertNoSeqConflicts(report);
  }

  @Test
  void suiteRunsEverythingAndWritesItsSummary() throws IOException {
    assertThat(LoadTestMain.run(args(withPids("suite", "--users", "10", "--start-rate", "100",
        "--max-rate", "100", "--max-p99-ms", "10000", "--step-seconds", "1",
        "--warmup-seconds", "1", "--retry-pause-seconds", "0", "--seconds", "1",
        "--latency-rates", "50,100", "--backlog-users", "2", "--backlog-messages", "20"))))
        .isZero();

    assertThat(reports("").stream().map(r -> r.get("scenario").asText()))
        .containsExactlyInAnyOrder("kafka-baseline-throughput", "throughput",
            "kafka-baseline-latency-50", "latency-50", "kafka-baseline-latency-100", "latency-100",
            "backlog");
    assertThat(reports("")).allSatisfy(r -> {
      assertThat(r.at("/correctness/lost").asLong()).isZero();
      assertNoSeqConflicts(r);
    });
    assertThat(reports("latency-100-").get(0).at("/parameters/rate_per_s").asDouble())
        .isEqualTo(100);
    String summary;
    try (Stream<Path> files = Files.list(reports)) {
      Path file = files.filter(p -> p.getFileName().toString().matches("suite-.*\\.md"))
          .findFirst().orElseThrow();
      summary = Files.readString(file);
    }
    assertThat(summary)
        .contains("| sustainable rate, p99 ≤ 10000 ms (msg/s) |")
        .contains("| highest rate delivery keeps up with, p99 ignored (msg/s) |")
        .contains("| latency p99 (ms) at 50 msg/s |")
        .contains("| latency p99.9 (ms) at 100 msg/s |")
        .containsPattern("\\| CPU µs per delivered message, core\\+edges at 100 msg/s \\| – \\| "
            + "[0-9.]+ \\|")
        .containsPattern("\\| CPU µs per delivered message, broker at 50 msg/s \\| [0-9.]+ "
            + "\\| [0-9.]+ \\| [0-9.]+ \\|")
        .contains("| seq conflicts / lost / duplicated / out of order, all runs "
            + "| 0 / 0 / 0 / 0 | 0 / 0 / 0 / 0 | |");
  }

  private JsonNode run(String scenario, String... options) throws IOException {
    String[] all = new String[options.length + 1];
    all[0] = scenario;
    System.arraycopy(options, 0, all, 1, options.length);
    assertThat(LoadTestMain.run(args(all))).as("exit code of %s", scenario).isZero();
    List<JsonNode> written = reports(scenario + "-");
    assertThat(written).hasSize(1);
    try (Stream<Path> files = Files.list(reports)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .anyMatch(n -> n.startsWith(scenario) && n.endsWith(".md"));
    }
    return written.get(0);
  }

  private String[] args(String... scenarioAndOptions) {
    List<String> args = new ArrayList<>(List.of(scenarioAndOptions));
    args.addAll(List.of(
        "--send-api", "127.0.0.1:" + cluster.sendPort(),
        "--ws", cluster.wsUri(0) + "," + cluster.wsUri(1),
        "--kafka", cluster.kafka.bootstrapServers(),
        "--topic-prefix", cluster.topics.prefix(),
        "--core-group", cluster.name,
        "--secret", TestCluster.SECRET,
        "--sources", "2",
        "--out", reports.toString()));
    return args.toArray(String[]::new);
  }

  private List<JsonNode> reports(String prefix) throws IOException {
    ObjectMapper json = new ObjectMapper();
    List<JsonNode> result = new ArrayList<>();
    try (Stream<Path> files = Files.list(reports)) {
      for (Path p : files.filter(p -> p.getFileName().toString().startsWith(prefix)
          && p.toString().endsWith(".json")).toList()) {
        result.add(json.readTree(p.toFile()));
      }
    }
    return result;
  }

  /** The CPU figures of every core, edges and broker in this JVM, which a test passes on. */
  private static String[] withPids(String... options) {
    List<String> all = new ArrayList<>(List.of(options));
    all.addAll(List.of("--core-pid", SELF, "--edge-pids", SELF + "," + SELF,
        "--broker-pid", SELF));
    return all.toArray(String[]::new);
  }

  private static void assertNoSeqConflicts(JsonNode report) {
    assertThat(report.at("/correctness/seqConflicts").isIntegralNumber())
        .as("seqConflicts in %s", report.get("scenario")).isTrue();
    assertThat(report.at("/correctness/seqConflicts").asLong()).isZero();
  }

  private static void assertCorrect(JsonNode report, long expectedAtLeast) {
    assertThat(report.at("/correctness/sent").asLong()).isGreaterThanOrEqualTo(expectedAtLeast);
    assertThat(report.at("/correctness/received").asLong())
        .isEqualTo(report.at("/correctness/sent").asLong());
    assertThat(report.at("/correctness/lost").asLong()).isZero();
    assertThat(report.at("/correctness/duplicated").asLong()).isZero();
    assertThat(report.at("/correctness/outOfOrder").asLong()).isZero();
    assertNoSeqConflicts(report);
  }
}
