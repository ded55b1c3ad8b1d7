package io.homing.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.homing.api.v1.GetStatusRequest;
import io.homing.api.v1.GetStatusResponse.State;
import io.homing.client.HomingConnection;
import io.homing.notifier.Notifier;
import io.homing.notifier.NotifierPolicy;
import io.homing.notifier.push.WebhookProvider;
import io.homing.runtime.MetricsEndpoint;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What deploy/k8s/monitoring reads is what the processes serve: a core, an edge and a notifier
 * are scraped as Prometheus would, after real deliveries, and every metric the Grafana dashboard
 * and the PrometheusRule name must be in a scrape, so that neither can drift from the code. The
 * edges' delivery latency histogram is checked end to end, live and backlog apart.
 */
class MonitoringIT {
  private static final Path MONITORING = Path.of("..", "deploy", "k8s", "monitoring");
  private static final Path DASHBOARD = MONITORING.resolve("grafana/homing-dashboard.json");
  private static final Path RULES = MONITORING.resolve("prometheusrule.yaml");
  /** A metric of Homing's processes in PromQL: Homing's own, Kafka client, JVM, process, system. */
  private static final Pattern METRIC =
      Pattern.compile("\\b((?:homing|kafka|jvm|process|system)_[a-zA-Z0-9_]+)\\b");
  /** Any name with a selector: each must be one {@link #METRIC} finds, or Prometheus' own. */
  private static final Pattern SELECTED = Pattern.compile("\\b([a-zA-Z_:][a-zA-Z0-9_:]*)\\{");
  /** What Prometheus itself adds for every scrape, served by no process. */
  private static final Set<String> PROMETHEUS_OWN = Set.of("up");
  /** A series line of the Prometheus text format: its metric name. */
  private static final Pattern SERIES = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]");
  private static final String LIVE = "homing_delivery_latency_seconds_count{kind=\"live\"}";
  private static final String BACKLOG = "homing_delivery_latency_seconds_count{kind=\"backlog\"}";
  private static final String LIVE_WITHIN_A_MINUTE =
      "homing_delivery_latency_seconds_bucket{kind=\"live\",le=\"60.0\"}";

  @RegisterExtension
  static final TestCluster cluster = TestCluster.perClass(1);

  private static MetricsEndpoint notifierMetrics;
  private static Notifier notifier;

  /** A notifier as NotifierMain runs one: its meters on a metrics endpoint of its own. */
  @BeforeAll
  static void startNotifier() {
    notifierMetrics = new MetricsEndpoint(new InetSocketAddress("127.0.0.1", 0), () -> true);
    notifier = new Notifier(cluster.kafkaConnection(), cluster.topics,
        cluster.name + "-notifier", "notifier-monitoring-it",
        List.of(new WebhookProvider(new WebhookProvider.Settings(
            List.of("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), List.of("http://127.0.0.1:"),
            Duration.ofSeconds(5)))),
        NotifierPolicy.defaults(), notifierMetrics.registry()).start();
  }

  @AfterAll
  static void stopNotifier() {
    if (notifier != null) {
      notifier.close();
    }
    if (notifierMetrics != null) {
      notifierMetrics.close();
    }
  }

  @Test
  void edgeRecordsTheLatencyOfALivePushWhenItIsWritten() throws Exception {
    String user = "live-" + UUID.randomUUID();
    Inbox inbox = new Inbox();
    cluster.connected(0, user, "phone", inbox);
    String before = cluster.edgeMetrics(0);
    cluster.sendText("now", user);
    inbox.take(1);

    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      String after = cluster.edgeMetrics(0);
      assertThat(TestCluster.metric(after, LIVE)).isEqualTo(TestCluster.metric(before, LIVE) + 1);
      assertThat(TestCluster.metric(after, LIVE_WITHIN_A_MINUTE))
          .as("a bucket of the histogram holds it")
          .isEqualTo(TestCluster.metric(before, LIVE_WITHIN_A_MINUTE) + 1);
      assertThat(TestCluster.metric(after, BACKLOG)).isEqualTo(TestCluster.metric(before, BACKLOG));
    });
  }

  @Test
  void edgeRecordsABacklogPushApartFromLiveOnes() throws Exception {
    String user = "away-" + UUID.randomUUID();
    String id = cluster.sendText("while you were away", user).getMessageId();
    GetStatusRequest status =
        GetStatusRequest.newBuilder().setUserId(user).setMessageId(id).build();
    await().atMost(Duration.ofSeconds(10)).ignoreExceptions()
        .until(() -> cluster.send().getStatus(status).getState() == State.QUEUED);
    String before = cluster.edgeMetrics(0);
    Inbox inbox = new Inbox();
    cluster.connected(0, user, "phone", inbox);
    inbox.take(1);

    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      String after = cluster.edgeMetrics(0);
      assertThat(TestCluster.metric(after, BACKLOG))
          .isEqualTo(TestCluster.metric(before, BACKLOG) + 1);
      assertThat(TestCluster.metric(after, LIVE)).isEqualTo(TestCluster.metric(before, LIVE));
    });
  }

  @Test
  void dashboardAndAlertsReadOnlyMetricsTheProcessesServe() throws Exception {
    seriesMadeOnFirstUse();
    Set<String> served = new TreeSet<>();
    for (String scrape : List.of(cluster.coreMetrics(), cluster.edgeMetrics(0),
        get(notifierMetrics))) {
      served.addAll(seriesNames(scrape));
    }

    Map<String, String> queries = new TreeMap<>(); // where → PromQL
    queries.putAll(dashboardQueries());
    queries.putAll(ruleQueries());
    Set<String> named = new TreeSet<>();
    queries.forEach((where, promql) -> {
      Set<String> metrics = metrics(promql);
      boolean readsPrometheusOwn = false;
      Matcher selected = SELECTED.matcher(promql);
      while (selected.find()) {
        readsPrometheusOwn |= PROMETHEUS_OWN.contains(selected.group(1));
        assertThat(metrics.contains(selected.group(1))
            || PROMETHEUS_OWN.contains(selected.group(1)))
            .as("%s selects %s, a metric no Homing process serves", where, selected.group(1))
            .isTrue();
      }
      assertThat(!metrics.isEmpty() || readsPrometheusOwn)
          .as("%s reads some metric: %s", where, promql).isTrue();
      named.addAll(metrics);
    });

    assertThat(named).as("what the dashboard and the alerts read").contains(
        "homing_delivery_latency_seconds_bucket", "kafka_consumer_fetch_manager_records_lag_max",
        "homing_partitions_owned", "homing_edge_connections",
        "homing_notifier_notifications_total");
    Set<String> missing = new TreeSet<>(named);
    missing.removeAll(served);
    assertThat(missing).as("metrics the dashboard or alerts read that no scrape has").isEmpty();
  }

  @Test
  void everyPanelHasADataSourceAndQueriesAndEveryAlertARunbook() throws Exception {
    JsonNode dashboard = new ObjectMapper().readTree(Files.readString(DASHBOARD));
    assertThat(dashboard.path("uid").asText()).isNotEmpty();
    int panels = 0;
    for (JsonNode panel : dashboard.path("panels")) {
      if (panel.path("type").asText().equals("row")) {
        continue;
      }
      panels++;
      String title = panel.path("title").asText();
      assertThat(panel.path("datasource").path("uid").asText()).as(title)
          .isEqualTo("${datasource}");
      assertThat(panel.path("targets")).as(title).isNotEmpty();
      for (JsonNode target : panel.path("targets")) {
        assertThat(target.path("expr").asText()).as(title).isNotBlank();
        assertThat(target.path("refId").asText()).as(title).isNotBlank();
      }
    }
    assertThat(panels).isGreaterThanOrEqualTo(10);

    List<String> alerts = ruleLines("- alert: ");
    List<String> runbooks = ruleLines("runbook_url: ");
    assertThat(alerts).hasSizeGreaterThanOrEqualTo(6).doesNotHaveDuplicates();
    assertThat(runbooks).as("one runbook per alert, in order").containsExactlyElementsOf(
        alerts.stream()
            .map(a -> "docs/operations.md#alert-" + a.toLowerCase(Locale.ROOT)).toList());
    assertThat(ruleLines("expr: ")).hasSameSizeAs(alerts);
    List<String> headings = Files.readAllLines(Path.of("..", "docs", "operations.md")).stream()
        .filter(line -> line.startsWith("### Alert: ")).map(line -> line.substring(11)).toList();
    assertThat(headings).as("docs/operations.md has a runbook for every alert, and only those")
        .containsExactlyInAnyOrderElementsOf(alerts);
  }

  /** Makes the series that appear on first use: a push, a refusal by code, a GC pause. */
  private static void seriesMadeOnFirstUse() throws Exception {
    String user = "scraped-" + UUID.randomUUID();
    Inbox inbox = new Inbox();
    cluster.connected(0, user, "phone", inbox);
    cluster.sendText("hello", user);
    inbox.take(1);
    HomingConnection refused =
        cluster.track(HomingConnection.builder(cluster.wsUri(0), "not-a-token").connect());
    Throwable thrown = catchThrowable(() -> refused.authenticated().get(10, TimeUnit.SECONDS));
    assertThat(thrown).isInstanceOf(ExecutionException.class);
    await().atMost(Duration.ofSeconds(10)).until(
        () -> cluster.edgeMetrics(0).contains("homing_edge_auth_refused_total{"));
    // GC pauses are a series once a collection happened; a running process has had many.
    System.gc();
    await().atMost(Duration.ofSeconds(10)).until(
        () -> cluster.coreMetrics().contains("jvm_gc_pause_seconds_sum{"));
  }

  /** Every PromQL of the dashboard, its targets' and its variables', by where it is. */
  private static Map<String, String> dashboardQueries() throws Exception {
    JsonNode dashboard = new ObjectMapper().readTree(Files.readString(DASHBOARD));
    Map<String, String> queries = new TreeMap<>();
    for (JsonNode panel : dashboard.path("panels")) {
      for (JsonNode target : panel.path("targets")) {
        queries.put("panel '" + panel.path("title").asText() + "' " + target.path("refId").asText(),
            target.path("expr").asText());
      }
    }
    for (JsonNode variable : dashboard.path("templating").path("list")) {
      if (variable.path("type").asText().equals("query")) {
        queries.put("variable " + variable.path("name").asText(),
            variable.path("query").path("query").asText());
      }
    }
    assertThat(queries).isNotEmpty();
    return queries;
  }

  /** Every alert's expr, by alert name. */
  private static Map<String, String> ruleQueries() throws Exception {
    List<String> alerts = ruleLines("- alert: ");
    List<String> exprs = ruleLines("expr: ");
    assertThat(exprs).hasSameSizeAs(alerts);
    Map<String, String> queries = new TreeMap<>();
    for (int i = 0; i < alerts.size(); i++) {
      queries.put("alert " + alerts.get(i), exprs.get(i));
    }
    return queries;
  }

  /**
   * The values of the rules file's lines that start (after indentation) with {@code key}. Every
   * expr is one line (the file says so); a block scalar would hide a query, so it fails here.
   */
  private static List<String> ruleLines(String key) throws Exception {
    List<String> values = new ArrayList<>();
    for (String line : Files.readAllLines(RULES)) {
      String trimmed = line.strip();
      if (trimmed.startsWith(key)) {
        String value = trimmed.substring(key.length()).strip();
        assertThat(value).as(line).doesNotStartWith("|").doesNotStartWith(">").isNotEmpty();
        values.add(value);
      }
    }
    return values;
  }

  private static Set<String> metrics(String promql) {
    Set<String> names = new HashSet<>();
    Matcher m = METRIC.matcher(promql);
    while (m.find()) {
      names.add(m.group(1));
    }
    return names;
  }

  /** The metric names of a scrape's series: {@code x_bucket}, {@code x_count}, as queried. */
  private static Set<String> seriesNames(String scrape) {
    Set<String> names = new HashSet<>();
    for (String line : scrape.split("\n")) {
      Matcher m = SERIES.matcher(line);
      if (!line.startsWith("#") && m.find()) {
        names.add(m.group(1));
      }
    }
    assertThat(names).isNotEmpty();
    return names;
  }

  private static String get(MetricsEndpoint endpoint) throws Exception {
    URI uri = URI.create("http://127.0.0.1:" + endpoint.address().getPort() + "/metrics");
    return HttpClient.newHttpClient()
        .send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString())
        .body();
  }
}
