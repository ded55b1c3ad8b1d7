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

  @TempDir Path reports;

  @Test
  void latencyScenarioDeliversEverythingOnceAndInOrder() throws IOException {
    JsonNode report = run("latency", "--users", "20", "--rate", "200", "--seconds", "2",
        "--warmup-seconds", "1");

    assertThat(report.at("/results/p50_ms").asDouble()).isPositive();
    assertCorrect(report, 500);
  }

  @Test
  void latencyScenarioThroughTheSendApi() throws IOException {
    JsonNode report = run("latency", "--via", "send-api", "--users", "10", "--rate", "100",
        "--seconds", "2", "--warmup-seconds", "1");

    assertCorrect(report, 300);
  }

  @Test
  void throughputScenarioStepsTheRate() throws IOException {
    // Mechanics, not performance: a cold JVM on a busy machine may well take 100 ms.
    JsonNode report = run("throughput", "--users", "10", "--start-rate", "100", "--factor", "2",
        "--max-rate", "200", "--max-p99-ms", "10000", "--step-seconds", "1",
        "--warmup-seconds", "1");

    assertThat(report.at("/results/steps")).hasSize(2);
    assertThat(report.at("/results/sustainable_per_s").asLong()).isPositive();
    assertThat(report.at("/correctness/lost").asLong()).isZero();
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
        "--seconds", "1"))).isZero();

    List<JsonNode> written = reports("kafka-baseline-");
    assertThat(written).hasSize(2);
    assertThat(written).allSatisfy(r -> assertThat(r.at("/correctness/lost").asLong()).isZero());
  }

  @Test
  void connectionsScenarioMeasuresTheEdge() throws IOException {
    JsonNode report = run("connections", "--count", "50", "--hold-seconds", "0",
        "--edge-pid", Long.toString(ProcessHandle.current().pid()));

    assertThat(report.at("/results/connected").asInt()).isEqualTo(50);
    assertThat(report.at("/results/failed").asInt()).isZero();
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

  private static void assertCorrect(JsonNode report, long expectedAtLeast) {
    assertThat(report.at("/correctness/sent").asLong()).isGreaterThanOrEqualTo(expectedAtLeast);
    assertThat(report.at("/correctness/received").asLong())
        .isEqualTo(report.at("/correctness/sent").asLong());
    assertThat(report.at("/correctness/lost").asLong()).isZero();
    assertThat(report.at("/correctness/duplicated").asLong()).isZero();
    assertThat(report.at("/correctness/outOfOrder").asLong()).isZero();
  }
}
