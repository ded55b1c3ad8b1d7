package io.homing.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
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
 *
 * <p>{@link #startSecure} starts one that takes clients over SASL_SSL only: TLS with a
 * certificate of a development CA, and SCRAM-SHA-512 users made when its storage is formatted.
 */
public final class KafkaBroker implements AutoCloseable {
  private static KafkaBroker shared;

  private final Path dataDir;
  private final int port;
  private final int controllerPort;
  private final String clusterId;
  /** Null for a plaintext broker. */
  private final Security security;
  private KafkaRaftServer server;

  /**
   * A broker's SASL_SSL: its certificate, the CA clients trust, and its one client user.
   */
  private record Security(DevCertificates ca, DevCertificates.Identity certificate, String user,
      String password) {
    static final String MECHANISM = "SCRAM-SHA-512";
    static final String BROKER_USER = "broker";
    static final String BROKER_PASSWORD = "broker-secret-of-the-test-broker";
  }

  private KafkaBroker(Path dataDir, Security security) {
    this.dataDir = dataDir;
    this.security = security;
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

  /** Formats a new data folder and starts a plaintext broker on it. */
  public static KafkaBroker start() {
    return start(null);
  }

  /**
   * Formats a new data folder and starts a broker on it that takes clients over SASL_SSL only:
   * its certificate is signed by {@code ca}, and {@code user} with {@code password} is its one
   * client user (SCRAM-SHA-512). {@link #clientSecurity()} gives clients what they need.
   */
  public static KafkaBroker startSecure(DevCertificates ca, String user, String password) {
    return start(new Security(ca, ca.peerCertificate("kafka"), user, password));
  }

  private static KafkaBroker start(Security security) {
    try {
      KafkaBroker broker = new KafkaBroker(Files.createTempDirectory("homing-kafka-"), security);
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

  /**
   * The security properties a client of this broker needs, as its user: none for a plaintext
   * broker.
   */
  public Map<String, String> clientSecurity() {
    return security == null ? Map.of() : clientSecurity(security.user(), security.password());
  }

  /**
   * The security properties of a client of this SASL_SSL broker that logs in as {@code user}
   * with {@code password}, right or not.
   */
  public Map<String, String> clientSecurity(String user, String password) {
    if (security == null) {
      throw new IllegalStateException("a plaintext broker has no client security");
    }
    return Map.of(
        "security.protocol", "SASL_SSL",
        "sasl.mechanism", Security.MECHANISM,
        "sasl.jaas.config", jaas(user, password),
        "ssl.truststore.type", "PEM",
        "ssl.truststore.location", security.ca().caCertificate().toString());
  }

  private static String jaas(String user, String password) {
    return "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
        + user + "\" password=\"" + password + "\";";
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
    List<String> args = new ArrayList<>(
        List.of("format", "-t", clusterId, "-c", config.toString(), "--standalone"));
    if (security != null) {
      args.addAll(List.of(
          "--add-scram", scram(Security.BROKER_USER, Security.BROKER_PASSWORD),
          "--add-scram", scram(security.user(), security.password())));
    }
    int rc = StorageTool.execute(args.toArray(String[]::new),
        new PrintStream(output, true, StandardCharsets.UTF_8));
    if (rc != 0) {
      throw new IllegalStateException("formatting the broker's storage failed: " + output);
    }
  }

  private static String scram(String user, String password) {
    return Security.MECHANISM + "=[name=" + user + ",password=" + password + "]";
  }

  private synchronized void startServer() {
    KafkaRaftServer raft = new KafkaRaftServer(new KafkaConfig(properties()), Time.SYSTEM);
    raft.startup();
    server = raft;
  }

  private Properties properties() {
    Properties p = new Properties();
    String listener = security == null ? "PLAINTEXT" : "SASL_SSL";
    p.put("process.roles", "broker,controller");
    p.put("node.id", "1");
    p.put("listeners",
        listener + "://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
    p.put("advertised.listeners", listener + "://127.0.0.1:" + port);
    p.put("controller.listener.names", "CONTROLLER");
    p.put("controller.quorum.bootstrap.servers", "127.0.0.1:" + controllerPort);
    p.put("inter.broker.listener.name", listener);
    p.put("listener.security.protocol.map", "CONTROLLER:PLAINTEXT," + listener + ":" + listener);
    if (security != null) {
      p.put("sasl.enabled.mechanisms", Security.MECHANISM);
      p.put("sasl.mechanism.inter.broker.protocol", Security.MECHANISM);
      p.put("listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config",
          jaas(Security.BROKER_USER, Security.BROKER_PASSWORD));
      p.put("ssl.keystore.type", "PEM");
      p.put("ssl.keystore.certificate.chain", read(security.certificate().certificate()));
      p.put("ssl.keystore.key", read(security.certificate().privateKey()));
      p.put("ssl.truststore.type", "PEM");
      p.put("ssl.truststore.certificates", read(security.ca().caCertificate()));
    }
    p.put("log.dirs", dataDir.resolve("log").toString());
    // The log cleaner's dedupe buffer is 128 MiB by default, allocated at start on the heap of
    // the test JVM that runs the broker: the tests' compacted topics are small.
    p.put("log.cleaner.dedupe.buffer.size", Integer.toString(8 << 20));
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

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
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
