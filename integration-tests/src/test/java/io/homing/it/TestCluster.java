package io.homing.it;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.homing.api.PresenceKeys;
import io.homing.api.Topics;
import io.homing.api.v1.Delivery;
import io.homing.api.v1.DeliveryBatch;
import io.homing.api.v1.DeliveryResult;
import io.homing.api.v1.DeliveryResults;
import io.homing.api.v1.EdgeServiceGrpc;
import io.homing.api.v1.Message;
import io.homing.api.v1.OutboundMessage;
import io.homing.api.v1.SendRequest;
import io.homing.api.v1.SendResponse;
import io.homing.api.v1.SendServiceGrpc;
import io.homing.client.HomingConnection;
import io.homing.client.SendApiChannel;
import io.homing.client.SendApiKey;
import io.homing.client.Tokens;
import io.homing.core.AdminApi;
import io.homing.core.CommitPolicy;
import io.homing.core.CoreConfig;
import io.homing.core.CoreServer;
import io.homing.core.DeliveryPolicy;
import io.homing.core.DeviceLimits;
import io.homing.core.NotifyPolicy;
import io.homing.core.QueueLimits;
import io.homing.core.ReceiptPolicy;
import io.homing.core.SendLimits;
import io.homing.core.send.SendCredentials;
import io.homing.edge.EdgeConfig;
import io.homing.edge.EdgeServer;
import io.homing.edge.session.EdgeLimits;
import io.homing.edge.transport.TlsFiles;
import io.homing.runtime.auth.TokenSettings;
import io.homing.runtime.kafka.KafkaConnection;
import io.homing.runtime.redis.RedisConnection;
import io.homing.runtime.tls.InternalTls;
import io.homing.runtime.tls.ServerTls;
import io.homing.testing.DevCertificates;
import io.homing.testing.KafkaBroker;
import io.homing.testing.Ports;
import io.homing.testing.RedisServer;
import io.lettuce.core.RedisClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.DoublePredicate;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A whole Homing deployment inside the test JVM, on real sockets: one delivery-core (more on
 * request, sharing the partitions) and N edge nodes, on the JVM's shared real Kafka broker and
 * Redis. Every cluster has its own topic prefix,
 * consumer group and Redis key prefix, so clusters of different tests never see each other.
 * Register it as a JUnit extension: {@link #perClass} on a static field, {@link #perTest} on an
 * instance field; it closes itself.
 */
final class TestCluster implements AutoCloseable, AfterEachCallback, AfterAllCallback {
  static final String SECRET = "integration-test-secret-0123456789abcdef";
  static final int MAX_PAYLOAD_BYTES = 64 * 1024;
  /** The API key the Send API of a secure cluster asks for, and {@link #send()} sends. */
  static final String API_KEY = "hk_integration-test-key-of-a-secure-cluster";
  /** The admin API key that may act on every user. */
  static final String ADMIN_KEY = "hk_integration-test-admin-key";
  /** An admin API key limited to users named {@code support-*}. */
  static final String SUPPORT_ADMIN_KEY = "hk_integration-test-support-admin-key";
  /** The Kafka and Redis user of a secure cluster's core and edges. */
  static final String SERVICE_USER = "homing";
  static final String KAFKA_PASSWORD = "kafka-secret-of-the-secure-cluster";
  static final String REDIS_PASSWORD = "redis-secret-of-the-secure-cluster";

  final String name = "it-" + UUID.randomUUID().toString().substring(0, 8);
  final Topics topics = new Topics(name + ".");
  final KafkaBroker kafka;
  final RedisServer redis;
  private final boolean ownRedis;
  private final Path dataDir;
  private final int sendPort = Ports.free();
  private final List<EdgeServer> edges = new ArrayList<>();
  private final List<HomingConnection> connections = new ArrayList<>();
  /** Core instances by index, each with its own data directory; null where stopped. */
  private final List<CoreServer> cores = new ArrayList<>();
  private ManagedChannel sendChannel;
  private KafkaProducer<String, byte[]> producer;

  private final boolean perTest;
  private final Options options;
  /** The edges' TLS certificate and its CA; null without TLS. */
  private final DevCertificates certificates;
  /** Core's and the edges' certificates for mutual TLS and Redis; null unless secure. */
  private final DevCertificates.Identity coreIdentity;
  private final DevCertificates.Identity edgeIdentity;
  private final SendCredentials sendCredentials;

  /**
   * How the cluster's core is configured, whether it has a Redis of its own and whether its edges
   * serve TLS.
   */
  record Options(DeliveryPolicy delivery, QueueLimits queues, DeviceLimits devices,
      CommitPolicy commits, boolean ownRedis, boolean tls, SendCredentials sendCredentials,
      SendLimits sendLimits, EdgeLimits edgeLimits, Duration idleTimeout, boolean secure,
      ReceiptPolicy receipts, NotifyPolicy notifications) {
    static Options defaults() {
      return new Options(DeliveryPolicy.defaults(), QueueLimits.defaults(),
          DeviceLimits.defaults(), CommitPolicy.defaults(), false, false, SendCredentials.NONE,
          SendLimits.defaults(), EdgeLimits.defaults(), Duration.ofSeconds(90), false,
          ReceiptPolicy.defaults(), NotifyPolicy.defaults());
    }

    Options with(DeliveryPolicy delivery) {
      return new Options(delivery, queues, devices, commits, ownRedis, tls, sendCredentials,
          sendLimits, edgeLimits, idleTimeout, secure, receipts, notifications);
    }

    Options with(QueueLimits queues) {
      return new Options(delivery, queues, devices, commits, ownRedis, tls, sendCredentials,
          sendLimits, edgeLimits, idleTimeout, secure, receipts, notifications);
    }

    Options with(DeviceLimits devices) {
      return new Options(delivery, queues, devices, commits, ownRedis, tls, sendCredentials,
          sendLimits, edgeLimits, idleTimeout, secure, receipts, notifications);
    }

    Options with(CommitPolicy commits) {
      return new Options(delivery, queues, devices, commits, ownRedis, tls, sendCredentials,
          sendLimits, edgeLimits, idleTimeout, secure, receipts, notifications);
    }

    Options with(SendLimits sendLimits) {
      return new Options(delivery, queues, devices, commits, ownRedis, tls, sendCredentials,
          sendLimits, edgeLimits, idleTimeout, secure, receipts, notifications);
    }

    Options with(EdgeLimits edgeLimits) {
      return new Options(delivery, queues, devices, commits, ownRedis, tls, sendCredentials,
          sendLimits, edgeLimits, idleTimeout, secure, receipts, notifications);
    }

    /** Edges that close a silent connection after {@code idleTimeout} rather than 90 s. */
    Options withIdleTimeout(Duration idleTimeout) {
      return new Options(delivery, queues, devices, commits, ownRedis, tls, sendCredentials,
          sendLimits, edgeLimits, idleTimeout, secure, receipts, notifications);
    }

    /** A Redis of the cluster's own, which a test may kill and restart. */
    Options withOwnRedis() {
      return new Options(delivery, queues, devices, commits, true, tls, sendCredentials,
          sendLimits, edgeLimits, idleTimeout, secure, receipts, notifications);
    }

    /**
     * Edges that serve TLS only (wss://, tls://) with a development certificate for 127.0.0.1,
     * signed by a CA of the cluster's own ({@link #certificates()}).
     */
    Options withTls() {
      return new Options(delivery, queues, devices, commits, ownRedis, true, sendCredentials,
          sendLimits, edgeLimits, idleTimeout, secure, receipts, notifications);
    }

    /**
     * Every hop secured, as docs/security.md describes a production deployment: a Kafka broker of
     * the cluster's own that takes SASL_SSL only (SCRAM), a Redis of its own over TLS with client
     * certificates and one ACL user confined to the cluster's key prefix, mutual TLS between core
     * and edges, edges serving TLS to clients, and a Send API over TLS that asks for an API key
     * ({@link #API_KEY}). One development CA signs every certificate.
     */
    Options withSecurity() {
      return new Options(delivery, queues, devices, commits, true, true, sendCredentials,
          sendLimits, edgeLimits, idleTimeout, true, receipts, notifications);
    }

    /** Receipts keyed and turned on for senders as {@code receipts} says. */
    Options with(ReceiptPolicy receipts) {
      return new Options(delivery, queues, devices, commits, ownRedis, tls, sendCredentials,
          sendLimits, edgeLimits, idleTimeout, secure, receipts, notifications);
    }

    /** Notifications asked for as {@code notifications} says. */
    Options with(NotifyPolicy notifications) {
      return new Options(delivery, queues, devices, commits, ownRedis, tls, sendCredentials,
          sendLimits, edgeLimits, idleTimeout, secure, receipts, notifications);
    }

    /** A Send API that asks for the API keys of this key file (ApiKeys). */
    Options withSendApiKeys(Path file) {
      return with(SendCredentials.apiKeys(file));
    }

    /** A Send API that asks for these credentials, and serves TLS if they say so. */
    Options with(SendCredentials sendCredentials) {
      return new Options(delivery, queues, devices, commits, ownRedis, tls, sendCredentials,
          sendLimits, edgeLimits, idleTimeout, secure, receipts, notifications);
    }
  }

  /** For {@code @RegisterExtension static}: one cluster for the class, closed after it. */
  static TestCluster perClass(int edgeCount) {
    return new TestCluster(edgeCount, false, Options.defaults());
  }

  /** One cluster for the class, configured by {@code options}, closed after it. */
  static TestCluster perClass(int edgeCount, Options options) {
    return new TestCluster(edgeCount, false, options);
  }

  /** For {@code @RegisterExtension} on an instance field: a fresh cluster for every test. */
  static TestCluster perTest(int edgeCount) {
    return new TestCluster(edgeCount, true, Options.defaults());
  }

  /** A fresh cluster for every test, configured by {@code options}. */
  static TestCluster perTest(int edgeCount, Options options) {
    return new TestCluster(edgeCount, true, options);
  }

  private TestCluster(int edgeCount, boolean perTest, Options options) {
    this.perTest = perTest;
    this.options = options;
    this.ownRedis = options.ownRedis();
    this.certificates = options.tls() ? DevCertificates.create() : null;
    if (options.secure()) {
      kafka = KafkaBroker.startSecure(certificates, SERVICE_USER, KAFKA_PASSWORD);
      redis = RedisServer.startSecure(certificates, SERVICE_USER, REDIS_PASSWORD, name + ":");
      coreIdentity = certificates.peerCertificate("core");
      edgeIdentity = certificates.peerCertificate("edge");
      sendCredentials = new SendCredentials(apiKeyFile(), options.sendCredentials().tokens(),
          Optional.of(new ServerTls(certificates.serverCertificate(), certificates.serverKey(),
              Optional.empty())));
    } else {
      kafka = KafkaBroker.shared();
      redis = ownRedis ? RedisServer.start() : RedisServer.shared();
      coreIdentity = null;
      edgeIdentity = null;
      sendCredentials = options.sendCredentials();
    }
    try {
      dataDir = Files.createTempDirectory("homing-core-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    startCore();
    for (int i = 0; i < edgeCount; i++) {
      edges.add(new EdgeServer(edgeConfig(i)).start());
    }
  }

  /** (Re)starts the first core, the one whose Send API {@link #sendText} calls. */
  void startCore() {
    startCore(0);
  }

  /** (Re)starts core {@code index}: instance id {@code core-<index>}, its own data directory. */
  void startCore(int index) {
    while (cores.size() <= index) {
      cores.add(null);
    }
    cores.set(index,
        new CoreServer(coreConfig(index, kafkaConnection(), redisConnection(coreIdentity)))
            .start());
  }

  /**
   * The configuration of core {@code index} ({@code core-<index>}, its own data directory; the
   * first serves the Send API at {@link #sendPort()}), reaching Kafka and Redis as given.
   */
  CoreConfig coreConfig(int index, KafkaConnection kafka, RedisConnection redis) {
    return new CoreConfig(
        "core-" + index,
        new InetSocketAddress("127.0.0.1", index == 0 ? sendPort : 0),
        new InetSocketAddress("127.0.0.1", 0),
        new InetSocketAddress("127.0.0.1", 0),
        "",
        kafka,
        topics,
        name,
        4,
        (short) 1,
        redis,
        name + ":",
        dataDir.resolve("core-" + index),
        MAX_PAYLOAD_BYTES,
        sendCredentials,
        Duration.ofDays(1),
        options.delivery(),
        options.queues(),
        options.devices(),
        options.commits(),
        options.sendLimits(),
        options.receipts(),
        options.notifications(),
        new AdminApi(new InetSocketAddress("127.0.0.1", 0), Optional.of(adminKeyFile())),
        internalTls(coreIdentity),
        metricsTls());
  }

  /** Deletes the first core's offline stores, as a lost disk would (with the core stopped). */
  void wipeCoreStore() throws IOException {
    Path directory = dataDir.resolve("core-0");
    try (var files = Files.walk(directory)) {
      files.sorted(java.util.Comparator.reverseOrder()).filter(p -> !p.equals(directory))
          .forEach(p -> p.toFile().delete());
    }
  }

  /** Completes with the error that stopped the first core's delivery loop. */
  CompletableFuture<Throwable> coreFailed() {
    return cores.get(0).failed();
  }

  /** Stops the first core. */
  void stopCore() {
    stopCore(0);
  }

  void stopCore(int index) {
    cores.get(index).close();
    cores.set(index, null);
  }

  /** The device's presence entry, "node|connection". */
  String presenceRoute(String user, String device) {
    RedisClient client = redisConnection(coreIdentity).newClient();
    try (var connection = client.connect()) {
      return connection.sync().hget(new PresenceKeys(name + ":").presence(user), device);
    } finally {
      client.shutdown();
    }
  }

  /** Sends one delivery to an edge's internal API, as core would, and returns its outcome. */
  DeliveryResult.Outcome deliverDirectly(
      int edge, String user, String device, String connectionId, long seq) throws Exception {
    return deliverDirectly(edge, user, device, connectionId, seq, seq - 1);
  }

  /**
   * Sends one delivery to an edge's internal API, as core would (with core's certificate when the
   * cluster is secure); returns the edge's answer.
   */
  DeliveryResult.Outcome deliverDirectly(
      int edge, String user, String device, String connectionId, long seq, long prevSeq)
      throws Exception {
    return deliverDirectly(edgeChannel(edge, coreIdentity), user, device, connectionId, seq,
        prevSeq);
  }

  /**
   * A channel to an edge's internal API: plaintext when {@code identity} is null, else TLS that
   * trusts the cluster's CA and presents {@code identity}'s certificate.
   */
  ManagedChannel edgeChannel(int edge, DevCertificates.Identity identity) throws IOException {
    int port = edgeGrpcPort(edge);
    if (identity == null) {
      return NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    }
    return NettyChannelBuilder.forAddress("127.0.0.1", port,
        TlsChannelCredentials.newBuilder()
            .trustManager(certificates.caCertificate().toFile())
            .keyManager(identity.certificate().toFile(), identity.privateKey().toFile())
            .build())
        .build();
  }

  /**
   * Sends one delivery on {@code channel} to an edge's internal API, as core would; returns the
   * edge's answer. Shuts the channel down.
   */
  static DeliveryResult.Outcome deliverDirectly(ManagedChannel channel, String user,
      String device, String connectionId, long seq, long prevSeq) throws Exception {
    try {
      CompletableFuture<DeliveryResults> answer = new CompletableFuture<>();
      StreamObserver<DeliveryBatch> requests =
          EdgeServiceGrpc.newStub(channel)
              .deliver(
                  new StreamObserver<>() {
                    @Override
                    public void onNext(DeliveryResults results) {
                      answer.complete(results);
                    }

                    @Override
                    public void onError(Throwable t) {
                      answer.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {}
                  });
      requests.onNext(
          DeliveryBatch.newBuilder()
              .addDeliveries(
                  Delivery.newBuilder()
                      .setUserId(user)
                      .setDeviceId(device)
                      .setConnectionId(connectionId)
                      .setSeq(seq)
                      .setPrevSeq(prevSeq)
                      .setMessage(Message.newBuilder().setMessageId("direct-" + seq)))
              .build());
      DeliveryResults results = answer.get(10, TimeUnit.SECONDS);
      requests.onCompleted();
      return results.getResults(0).getOutcome();
    } finally {
      channel.shutdownNow();
    }
  }

  /**
   * Whether the edge holds a connection of the device. Once it does not, the edge has published
   * the connection's last Ack event, so a new connection's Connected event comes after it.
   */
  boolean holds(int edge, String user, String device) {
    return edges.get(edge).registry().find(user, device) != null;
  }

  /** The port of core {@code index}'s admin API. */
  int coreAdminPort(int index) {
    return cores.get(index).adminPort();
  }

  /** The port of core {@code index}'s internal API, which other cores forward GetStatus to. */
  int coreInternalPort(int index) {
    return cores.get(index).internalPort();
  }

  /** The port of an edge's internal API, which core delivers through. */
  int edgeGrpcPort(int edge) {
    return edges.get(edge).grpcPort();
  }

  void stopEdge(int index) {
    edges.get(index).close();
  }

  private EdgeConfig edgeConfig(int index) {
    return edgeConfig(index, kafkaConnection(), redisConnection(edgeIdentity),
        internalTls(edgeIdentity));
  }

  /**
   * An edge of the cluster, with another index than its running edges, that starts with its own
   * Kafka and Redis connections and mutual TLS; {@link #stopEdge} stops it.
   */
  EdgeServer startEdge(int index, KafkaConnection kafka, RedisConnection redis,
      Optional<InternalTls> internalTls) {
    EdgeServer edge = new EdgeServer(edgeConfig(index, kafka, redis, internalTls)).start();
    while (edges.size() <= index) {
      edges.add(null);
    }
    edges.set(index, edge);
    return edge;
  }

  private EdgeConfig edgeConfig(int index, KafkaConnection kafka, RedisConnection redis,
      Optional<InternalTls> internalTls) {
    int grpcPort = Ports.free();
    return new EdgeConfig(
        "edge-" + index,
        new InetSocketAddress("127.0.0.1", 0),
        new InetSocketAddress("127.0.0.1", 0),
        new InetSocketAddress("127.0.0.1", grpcPort),
        new InetSocketAddress("127.0.0.1", 0),
        "127.0.0.1:" + grpcPort,
        redis,
        kafka,
        topics,
        TokenSettings.hs256(SECRET),
        Duration.ofSeconds(2),
        // Clients ping every heartbeat: below the idle timeout, however short a test makes it.
        options.idleTimeout().compareTo(Duration.ofSeconds(60)) < 0
            ? options.idleTimeout().dividedBy(2) : Duration.ofSeconds(30),
        options.idleTimeout(),
        64 * 1024,
        Duration.ofSeconds(5),
        name + ":",
        certificates == null ? null
            : new TlsFiles(certificates.serverCertificate(), certificates.serverKey()),
        List.of(),
        options.edgeLimits(),
        List.of("http://127.0.0.1:"),
        internalTls,
        metricsTls());
  }

  /** How the cluster's processes reach Kafka: with the broker's SASL_SSL when secure. */
  KafkaConnection kafkaConnection() {
    return new KafkaConnection(kafka.bootstrapServers(), kafka.clientSecurity());
  }

  /** How a process with this certificate (null: none) reaches the cluster's Redis. */
  RedisConnection redisConnection(DevCertificates.Identity identity) {
    if (identity == null) {
      return RedisConnection.of(redis.uri());
    }
    return new RedisConnection(redis.uri(), redis.user(), redis.password(),
        Optional.of(certificates.caCertificate()), Optional.of(identity.certificate()),
        Optional.of(identity.privateKey()));
  }

  /** Mutual TLS with this certificate, when the cluster is secure. */
  Optional<InternalTls> internalTls(DevCertificates.Identity identity) {
    return identity == null ? Optional.empty()
        : Optional.of(new InternalTls(certificates.caCertificate(), identity.certificate(),
            identity.privateKey(), Optional.empty()));
  }

  /** A key file that lets {@link #API_KEY} send to every user. */
  private static Path apiKeyFile() {
    return keyFile("it " + sha256(API_KEY) + " *\n");
  }

  /**
   * The admin key file: {@link #ADMIN_KEY} may act on every user, {@link #SUPPORT_ADMIN_KEY} on
   * users named {@code support-*} only.
   */
  private static Path adminKeyFile() {
    return keyFile("ops " + sha256(ADMIN_KEY) + " *\n"
        + "support " + sha256(SUPPORT_ADMIN_KEY) + " support-*\n");
  }

  private static Path keyFile(String lines) {
    try {
      Path file = Files.createTempFile("homing-api-keys-", ".txt");
      Files.writeString(file, lines);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String sha256(String key) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(key.getBytes(StandardCharsets.US_ASCII)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Core's certificate for mutual TLS and Redis; null unless the cluster is secure. */
  DevCertificates.Identity coreIdentity() {
    return coreIdentity;
  }

  /** The edges' certificate for mutual TLS and Redis; null unless the cluster is secure. */
  DevCertificates.Identity edgeIdentity() {
    return edgeIdentity;
  }

  /** The edges' certificate and the CA that signed it; null unless the cluster has TLS. */
  DevCertificates certificates() {
    return certificates;
  }

  /** The first core's /metrics, as Prometheus would scrape it. */
  String coreMetrics() throws Exception {
    return coreMetrics(0);
  }

  String coreMetrics(int index) throws Exception {
    return get(metricsUri(cores.get(index).metricsAddress(), "/metrics"));
  }

  /** An edge's /metrics. */
  String edgeMetrics(int edge) throws Exception {
    return get(metricsUri(edges.get(edge).metricsAddress(), "/metrics"));
  }

  /** A path of a metrics port: https:// when the cluster is secure. */
  URI metricsUri(InetSocketAddress address, String path) {
    return URI.create((options.secure() ? "https" : "http") + "://127.0.0.1:" + address.getPort()
        + path);
  }

  /** Where core {@code index} serves /metrics and /health. */
  InetSocketAddress coreMetricsAddress(int index) {
    return cores.get(index).metricsAddress();
  }

  /** The value of one series (name and labels as Prometheus prints them) in a scrape; NaN if absent. */
  static double metric(String scrape, String series) {
    for (String line : scrape.split("\n")) {
      if (line.startsWith(series + " ")) {
        return Double.parseDouble(line.substring(series.length() + 1).trim());
      }
    }
    return Double.NaN;
  }

  /**
   * Waits up to 15 s for the core's {@code series} to reach {@code atLeast}, and returns its value
   * then (the last value read, if it never did).
   */
  double awaitCoreMetric(String series, double atLeast) throws Exception {
    return awaitCoreMetric(0, series, value -> value >= atLeast, Duration.ofSeconds(15));
  }

  /**
   * Waits up to {@code timeout} until core {@code index}'s {@code series} satisfies {@code done},
   * and returns its value then (the last value read, if it never did).
   */
  double awaitCoreMetric(int index, String series, DoublePredicate done, Duration timeout)
      throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    double value = metric(coreMetrics(index), series);
    while (!done.test(value) && System.nanoTime() < deadline) {
      Thread.sleep(100);
      value = metric(coreMetrics(index), series);
    }
    return value;
  }

  /** GET, as Prometheus would scrape: with core's certificate when the cluster is secure. */
  private String get(URI uri) throws Exception {
    java.net.http.HttpClient.Builder client = java.net.http.HttpClient.newBuilder();
    if (options.secure()) {
      client.sslContext(certificates.clientContext(coreIdentity));
    }
    return client.build()
        .send(java.net.http.HttpRequest.newBuilder(uri).build(),
            java.net.http.HttpResponse.BodyHandlers.ofString())
        .body();
  }

  /**
   * The HTTPS of a secure cluster's metrics ports: the server certificate, and client
   * certificates of the cluster's CA for /metrics.
   */
  Optional<ServerTls> metricsTls() {
    return options.secure()
        ? Optional.of(new ServerTls(certificates.serverCertificate(), certificates.serverKey(),
            Optional.of(certificates.caCertificate())))
        : Optional.empty();
  }

  int sendPort() {
    return sendPort;
  }

  /** The edge's WebSocket URI: wss:// when the cluster has TLS, ws:// otherwise. */
  URI wsUri(int edge) {
    InetSocketAddress address = edges.get(edge).clientAddress();
    return URI.create((certificates == null ? "ws" : "wss") + "://127.0.0.1:" + address.getPort()
        + "/ws");
  }

  /** The edge's raw TCP URI: tls:// when the cluster has TLS, tcp:// otherwise. */
  URI tcpUri(int edge) {
    InetSocketAddress address = edges.get(edge).tcpAddress();
    return URI.create((certificates == null ? "tcp" : "tls") + "://127.0.0.1:" + address.getPort());
  }

  /** A WebSocket URI nothing listens on. */
  URI unusedWsUri() {
    return URI.create("ws://127.0.0.1:" + Ports.free() + "/ws");
  }

  String token(String user, String device) {
    return Tokens.mint(SECRET, user, device, Duration.ofMinutes(10));
  }

  HomingConnection.Builder client(int edge, String user, String device) {
    return client(wsUri(edge), user, device);
  }

  /** A connection to {@code uri} as the user's device, trusting the cluster's CA if it has TLS. */
  HomingConnection.Builder client(URI uri, String user, String device) {
    return client(uri, token(user, device));
  }

  /** A connection to {@code uri} with this token, trusting the cluster's CA if it has TLS. */
  HomingConnection.Builder client(URI uri, String token) {
    HomingConnection.Builder builder = HomingConnection.builder(uri, token);
    return certificates == null ? builder : builder.trustedCertificates(certificates.caCertificate());
  }

  /** Closes the connection with the cluster. */
  HomingConnection track(HomingConnection connection) {
    connections.add(connection);
    return connection;
  }

  /** Connects, waits for AuthOk, and hands messages to the inbox. */
  HomingConnection connected(int edge, String user, String device, Inbox inbox) throws Exception {
    HomingConnection c = track(client(edge, user, device).listener(inbox).connect());
    c.authenticated().get(10, TimeUnit.SECONDS);
    return c;
  }

  /** A stub of the first core's Send API: over TLS with the cluster's API key when secure. */
  SendServiceGrpc.SendServiceBlockingStub send() {
    if (sendChannel == null) {
      sendChannel = SendApiChannel.open("127.0.0.1:" + sendPort, options.secure()
          ? Optional.of(new SendApiChannel.Tls(Optional.of(certificates.caCertificate()),
              Optional.empty(), Optional.empty()))
          : Optional.empty());
    }
    SendServiceGrpc.SendServiceBlockingStub stub =
        SendServiceGrpc.newBlockingStub(sendChannel).withDeadlineAfter(20, TimeUnit.SECONDS);
    return options.secure() ? stub.withInterceptors(SendApiKey.interceptor(API_KEY)) : stub;
  }

  SendResponse sendText(String text, String... users) {
    return send()
        .send(
            SendRequest.newBuilder()
                .addAllUserIds(List.of(users))
                .setPayload(ByteString.copyFromUtf8(text))
                .setContentType("text/plain")
                .build());
  }

  /** Publishes straight to {@code outbound}, as a producer application would. */
  void produce(String user, String text) throws Exception {
    produce(user, text, UUID.randomUUID().toString());
  }

  /** Publishes straight to {@code outbound}, with this message id. */
  void produce(String user, String text, String messageId) throws Exception {
    OutboundMessage message =
        OutboundMessage.newBuilder()
            .setUserId(user)
            .setMessage(
                Message.newBuilder()
                    .setMessageId(messageId)
                    .setPayload(ByteString.copyFromUtf8(text)))
            .build();
    producer()
        .send(new ProducerRecord<>(topics.outbound(), user, message.toByteArray()))
        .get(10, TimeUnit.SECONDS);
  }

  /** Publishes any key and value to one partition of {@code topic}, as a buggy producer might. */
  void produceRaw(String topic, int partition, String key, byte[] value) throws Exception {
    producer().send(new ProducerRecord<>(topic, partition, key, value)).get(10, TimeUnit.SECONDS);
  }

  private KafkaProducer<String, byte[]> producer() {
    if (producer == null) {
      producer =
          new KafkaProducer<>(
              producerConfig(),
              new StringSerializer(),
              new ByteArraySerializer());
    }
    return producer;
  }

  private Map<String, Object> producerConfig() {
    Map<String, Object> config = kafkaConnection().clientConfig();
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    return config;
  }

  @Override
  public void afterEach(ExtensionContext context) {
    if (perTest) {
      close();
    }
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (!perTest) {
      close();
    }
  }

  @Override
  public void close() {
    connections.forEach(HomingConnection::close);
    if (producer != null) {
      producer.close();
    }
    if (sendChannel != null) {
      sendChannel.shutdownNow();
    }
    edges.stream().filter(Objects::nonNull).forEach(EdgeServer::close);
    cores.stream().filter(Objects::nonNull).forEach(CoreServer::close);
    if (ownRedis) {
      redis.close();
    }
    if (options.secure()) {
      kafka.close();
    }
  }
}
