package io.homing.it;

import io.homing.testing.KafkaBroker;
import io.homing.testing.Ports;
import io.homing.testing.RedisServer;
import io.homing.testing.TempFolders;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A deployment of real processes, for tests that kill them: two delivery-cores sharing the
 * partitions (a third on request) and two edges, each run from their shaded jar in a JVM of their
 * own (so SIGKILL is a real crash), beside a Kafka broker and a redis-server that belong to this
 * cluster alone (so they can be restarted). The jars are the ones the reactor built before this
 * module's tests run.
 */
final class ProcessCluster implements AutoCloseable {
  static final String SECRET = TestCluster.SECRET;
  static final int PARTITIONS = 4;
  private static final int MAX_CORES = 3;

  final String name = "chaos-" + UUID.randomUUID().toString().substring(0, 8);
  final KafkaBroker kafka = KafkaBroker.start();
  final RedisServer redis = RedisServer.start();
  private final Path dir;
  private final List<String> coreOptions;
  private final int[] sendPorts = ports(MAX_CORES);
  private final int[] coreMetricsPorts = ports(MAX_CORES);
  private final int[] wsPorts = ports(2);
  private final int[] tcpPorts = ports(2);
  private final int[] grpcPorts = ports(2);
  private final int[] edgeMetricsPorts = ports(2);
  private final Process[] cores = new Process[MAX_CORES];
  private final Process[] edges = new Process[2];
  private final HttpClient http = HttpClient.newHttpClient();

  /**
   * @param coreOptions options every core is started with besides the cluster's own (a commit
   *     interval, pipeline threads)
   */
  ProcessCluster(String... coreOptions) {
    this.coreOptions = List.of(coreOptions);
    try {
      dir = Files.createTempDirectory("homing-chaos-");
      Files.createDirectories(dir.resolve("logs"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try {
      startCore(0);
      startCore(1);
      startEdge(0);
      startEdge(1);
    } catch (RuntimeException e) {
      close(); // what started must not outlive a cluster that never was
      throw e;
    }
  }

  String topicPrefix() {
    return name + ".";
  }

  URI wsUri(int edge) {
    return URI.create("ws://127.0.0.1:" + wsPorts[edge] + "/ws");
  }

  Path logs() {
    return dir.resolve("logs");
  }

  void startCore(int i) {
    List<String> options = new ArrayList<>(List.of(
        "--instance-id", "core-" + i,
        "--send-port", Integer.toString(sendPorts[i]),
        "--metrics-port", Integer.toString(coreMetricsPorts[i]),
        "--internal-port", Integer.toString(Ports.free()),
        "--admin-port", Integer.toString(Ports.free()),
        "--kafka", kafka.bootstrapServers(),
        "--topic-prefix", topicPrefix(),
        "--group-id", name,
        "--partitions", Integer.toString(PARTITIONS),
        "--redis", redis.uri(),
        "--key-prefix", name + ":",
        "--data-dir", dir.resolve("core-" + i + "-data").toString(),
        "--ack-timeout", "PT2S"));
    options.addAll(coreOptions);
    cores[i] = launch("core-" + i, jar("delivery-core", "homing-core.jar"), options);
    awaitPort(sendPorts[i], cores[i], "core-" + i);
  }

  /** SIGKILL: no shutdown hook, no flush, no goodbye. */
  void killCore(int i) {
    kill(cores[i]);
    cores[i] = null;
  }

  /** SIGTERM, and waits for the core to exit: it commits, leaves the group and stops. */
  void stopCore(int i) throws InterruptedException {
    stop(cores[i], "core-" + i);
    cores[i] = null;
  }

  /** The value of a series in the core's /metrics; NaN when absent. */
  double coreMetric(int i, String series) throws Exception {
    return TestCluster.metric(http.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + coreMetricsPorts[i] + "/metrics")).build(),
            HttpResponse.BodyHandlers.ofString())
        .body(), series);
  }

  void startEdge(int i) {
    edges[i] = launch("edge-" + i, jar("edge-connector", "homing-edge.jar"), List.of(
        "--node-id", "edge-" + i,
        "--ws-port", Integer.toString(wsPorts[i]),
        "--tcp-port", Integer.toString(tcpPorts[i]),
        "--grpc-port", Integer.toString(grpcPorts[i]),
        "--metrics-port", Integer.toString(edgeMetricsPorts[i]),
        "--kafka", kafka.bootstrapServers(),
        "--topic-prefix", topicPrefix(),
        "--redis", redis.uri(),
        "--key-prefix", name + ":",
        "--presence-ttl", "PT3S"));
    awaitPort(wsPorts[i], edges[i], "edge-" + i);
    awaitPort(tcpPorts[i], edges[i], "edge-" + i); // bound after the WebSocket port
  }

  void killEdge(int i) {
    kill(edges[i]);
    edges[i] = null;
  }

  /**
   * SIGTERM, and waits for the edge to exit: it stops accepting, tells its clients SHUTTING_DOWN,
   * closes their connections and leaves presence.
   */
  void stopEdge(int i) throws InterruptedException {
    stop(edges[i], "edge-" + i);
    edges[i] = null;
  }

  /**
   * Throws unless every process started and not killed or stopped since is still running: one that
   * exited on its own (a port taken, a failed start after its first port opened) would leave the
   * scenario running on fewer parts than it says.
   */
  void assertRunning() {
    for (int i = 0; i < cores.length; i++) {
      assertAlive(cores[i], "core-" + i);
    }
    for (int i = 0; i < edges.length; i++) {
      assertAlive(edges[i], "edge-" + i);
    }
  }

  private void assertAlive(Process process, String name) {
    if (process != null && !process.isAlive()) {
      throw new IllegalStateException(name + " exited with " + process.exitValue()
          + "; see " + logs().resolve(name + ".log"));
    }
  }

  /** Waits until the edge's /health answers 200, as a readiness probe would. */
  void awaitEdgeHealthy(int i) throws InterruptedException {
    awaitHealthy(edgeMetricsPorts[i], edges[i], "edge-" + i);
  }

  /** Waits until the core's /health answers 200, as a readiness probe would. */
  void awaitCoreHealthy(int i) throws InterruptedException {
    awaitHealthy(coreMetricsPorts[i], cores[i], "core-" + i);
  }

  @Override
  public void close() {
    for (Process p : edges) {
      kill(p);
    }
    for (Process p : cores) {
      kill(p);
    }
    redis.close();
    kafka.close();
    // The cores' stores (hundreds of MB a scenario) go; the logs stay for a failure's reader.
    try (var files = Files.list(dir)) {
      files.filter(p -> p.getFileName().toString().endsWith("-data")).toList()
          .forEach(TempFolders::deleteQuietly);
    } catch (IOException e) {
      // the stores left behind in the temporary folder
    }
  }

  private static int[] ports(int count) {
    int[] ports = new int[count];
    for (int i = 0; i < count; i++) {
      ports[i] = Ports.free();
    }
    return ports;
  }

  private Process launch(String name, Path jar, List<String> options) {
    List<String> command = new ArrayList<>(List.of(
        ProcessHandle.current().info().command().orElse("java"), "-Xmx256m",
        "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xss512k", "-jar",
        jar.toString()));
    command.addAll(options);
    ProcessBuilder builder = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(logs().resolve(name + ".log").toFile()));
    builder.environment().put("HOMING_JWT_SECRET", SECRET);
    builder.environment().put("HOMING_LOG_LEVEL", "INFO");
    try {
      return builder.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name, e);
    }
  }

  private static Path jar(String module, String file) {
    Path jar = Path.of("..", module, "target", file).toAbsolutePath().normalize();
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(jar + " is missing: build the reactor (mvn verify) first");
    }
    return jar;
  }

  private static void stop(Process process, String name) throws InterruptedException {
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      throw new IllegalStateException(name + " did not stop within 60 s of SIGTERM");
    }
  }

  private void awaitHealthy(int port, Process process, String name) throws InterruptedException {
    HttpRequest probe = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
        .timeout(Duration.ofSeconds(1)).build();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      assertAlive(process, name);
      try {
        if (http.send(probe, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      Thread.sleep(50);
    }
    throw new IllegalStateException(name + "'s /health did not answer 200 within 60 s");
  }

  private void awaitPort(int port, Process process, String name) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      assertAlive(process, name);
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
        return;
      } catch (IOException notYet) {
        sleep(100);
      }
    }
    throw new IllegalStateException(name + " did not open port " + port + " within 60 s");
  }

  private static void kill(Process process) {
    if (process != null && process.isAlive()) {
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
