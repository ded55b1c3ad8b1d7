package io.homing.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Properties;
import java.util.stream.Stream;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;

/**
 * A real single-node Kafka broker (KRaft, combined broker and controller) running inside the test
 * JVM on free loopback ports, with its data in a temporary folder.
 *
 * <p>{@link #shared()} starts one per JVM, the first time a test asks, and stops it when the JVM
 * exits: tests share it and keep apart through unique topic names and consumer groups. A test that
 * must stop or restart the broker starts its own with {@link #start()}.
 */
public final class KafkaBroker implements AutoCloseable {
  private static KafkaBroker shared;

  private final Path dataDir;
  private final int port;
  private final int controllerPort;
  private final String clusterId;
  private KafkaRaftServer server;

  private KafkaBroker(Path dataDir) {
    this.dataDir = dataDir;
    this.port = Ports.free();
    this.controllerPort = Ports.free();
    this.clusterId = Uuid.randomUuid().toString();
  }

  /** The broker shared by every test of this JVM. */
  public static synchronized KafkaBroker shared() {
    if (shared == null) {
      KafkaBroker broker = start();
      Runtime.getRuntime().addShutdownHook(new Thread(broker::close, "kafka-broker-shutdown"));
      shared = broker;
    }
    return shared;
  }

  /** Formats a new data folder and starts a broker on it. */
  public static KafkaBroker start() {
    try {
      KafkaBroker broker = new KafkaBroker(Files.createTempDirectory("homing-kafka-"));
      broker.format();
      broker.startServer();
      return broker;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code host:port} for {@code bootstrap.servers}. */
  public String bootstrapServers() {
    return "127.0.0.1:" + port;
  }

  /** Stops the broker, keeping its data, so that {@link #restart()} brings the same log back. */
  public synchronized void stop() {
    if (server != null) {
      server.shutdown();
      server.awaitShutdown();
      server = null;
    }
  }

  /** Starts the broker again on the same ports and data. */
  public synchronized void restart() {
    stop();
    startServer();
  }

  /** Stops the broker and deletes its data. Idempotent. */
  @Override
  public synchronized void close() {
    stop();
    deleteRecursively(dataDir);
  }

  private void format() throws IOException {
    Path config = dataDir.resolve("server.properties");
    try (var out = Files.newOutputStream(config)) {
      properties().store(out, "homing test broker");
    }
    ByteArrayOutputStream output = new ByteArrayOutputStream();
    int rc =
        StorageTool.execute(
            new String[] {"format", "-t", clusterId, "-c", config.toString(), "--standalone"},
            new PrintStream(output, true, StandardCharsets.UTF_8));
    if (rc != 0) {
      throw new IllegalStateException("formatting the broker's storage failed: " + output);
    }
  }

  private synchronized void startServer() {
    KafkaRaftServer raft = new KafkaRaftServer(new KafkaConfig(properties()), Time.SYSTEM);
    raft.startup();
    server = raft;
  }

  private Properties properties() {
    Properties p = new Properties();
    p.put("process.roles", "broker,controller");
    p.put("node.id", "1");
    p.put("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
    p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
    p.put("controller.listener.names", "CONTROLLER");
    p.put("controller.quorum.bootstrap.servers", "127.0.0.1:" + controllerPort);
    p.put("inter.broker.listener.name", "PLAINTEXT");
    p.put("listener.security.protocol.map", "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT");
    p.put("log.dirs", dataDir.resolve("log").toString());
    p.put("num.partitions", "1");
    p.put("auto.create.topics.enable", "false");
    p.put("offsets.topic.replication.factor", "1");
    p.put("offsets.topic.num.partitions", "4");
    p.put("transaction.state.log.replication.factor", "1");
    p.put("transaction.state.log.min.isr", "1");
    p.put("share.coordinator.state.topic.replication.factor", "1");
    p.put("share.coordinator.state.topic.min.isr", "1");
    p.put("group.initial.rebalance.delay.ms", "0");
    p.put("log.flush.interval.messages", Long.toString(Long.MAX_VALUE));
    return p;
  }

  private static void deleteRecursively(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + dir, e);
    }
  }
}
