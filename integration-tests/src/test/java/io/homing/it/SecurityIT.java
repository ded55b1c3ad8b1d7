package io.homing.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.groups.Tuple.tuple;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.homing.api.PresenceKeys;
import io.homing.api.v1.DeliveryResult;
import io.homing.client.HomingConnection;
import io.homing.core.CoreServer;
import io.homing.runtime.kafka.KafkaConnection;
import io.homing.runtime.redis.RedisConnection;
import io.homing.runtime.tls.InternalTls;
import io.homing.testing.DevCertificates;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A deployment with every hop secured (TestCluster.Options#withSecurity): messages go through
 * Kafka over SASL_SSL, Redis over TLS with an ACL user, mutual TLS between core and edges, and TLS
 * to clients and the Send API; and each hop refuses who cannot prove itself. The full transport
 * suites (TransportIT, HttpFallbackIT) run on such a deployment too.
 */
class SecurityIT {
  @RegisterExtension static final TestCluster cluster =
      TestCluster.perClass(1, TestCluster.Options.defaults().withSecurity());

  private static final AtomicInteger users = new AtomicInteger();

  private static String newUser() {
    return "secure-" + users.incrementAndGet();
  }

  @Test
  void deliversThroughEveryEncryptedHop() throws Exception {
    String user = newUser();
    Inbox inbox = new Inbox();
    cluster.connected(0, user, "phone", inbox);

    cluster.sendText("through the Send API over TLS", user);
    cluster.produce(user, "straight to Kafka over SASL_SSL");

    assertThat(inbox.take(2))
        .extracting(Inbox.Received::seq, Inbox.Received::text)
        .containsExactly(
            tuple(1L, "through the Send API over TLS"),
            tuple(2L, "straight to Kafka over SASL_SSL"));
    assertThat(cluster.presenceRoute(user, "phone")).startsWith("edge-0|");
  }

  @Test
  void anEdgeDeliversOnlyForACallerWithACertificateOfTheInternalCa() throws Exception {
    String user = newUser();
    Inbox inbox = new Inbox();
    cluster.connected(0, user, "phone", inbox);
    String connection = PresenceKeys.connectionOf(cluster.presenceRoute(user, "phone"));
    DevCertificates otherCa = DevCertificates.create();

    assertRefused(cluster.edgeChannel(0, null), user, connection);
    assertRefused(tlsWithoutCertificate(), user, connection);
    assertRefused(trustingTheEdgeAs(otherCa.peerCertificate("core")), user, connection);

    assertThat(cluster.deliverDirectly(0, user, "phone", connection, 1))
        .isEqualTo(DeliveryResult.Outcome.WRITTEN);
    assertThat(inbox.take(1)).extracting(r -> r.message().getMessageId())
        .containsExactly("direct-1");
    assertThat(inbox.pending()).as("nothing of the refused callers").isZero();
  }

  /** An edge's certificate that core must refuse, and the CA the edge itself trusts. */
  record Impostor(String name, DevCertificates.Identity certificate) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Impostor> impostors() {
    return Stream.of(
        new Impostor("a certificate of another CA",
            DevCertificates.create().peerCertificate("edge")),
        new Impostor("a certificate of the internal CA for another host",
            cluster.certificates().peerCertificate("elsewhere", "DNS:elsewhere.example")));
  }

  @ParameterizedTest
  @MethodSource("impostors")
  void coreDeliversNothingToAnEdgeWhoseCertificateItMayNotTrust(Impostor impostor)
      throws Exception {
    // Registered in Redis like any edge, with the deployment's Redis credentials, and it would
    // take core's certificate: only its own certificate gives it away.
    cluster.startEdge(1, cluster.kafkaConnection(),
        cluster.redisConnection(cluster.edgeIdentity()),
        Optional.of(new InternalTls(cluster.certificates().caCertificate(),
            impostor.certificate().certificate(), impostor.certificate().privateKey(),
            Optional.empty())));
    String user = newUser();
    String failures = "homing_edge_stream_failures_total";
    try {
      double failedBefore = TestCluster.metric(cluster.coreMetrics(), failures);
      Inbox atImpostor = new Inbox();
      HomingConnection there =
          cluster.track(cluster.client(1, user, "phone").listener(atImpostor).connect());
      await().atMost(Duration.ofSeconds(10))
          .until(() -> cluster.presenceRoute(user, "phone") != null);
      cluster.sendText("for trusted edges only", user);

      assertThat(cluster.awaitCoreMetric(failures, failedBefore + 1))
          .as("delivery streams core could not open").isGreaterThan(failedBefore);
      // AuthOk comes from core too (decision 14): the impostor cannot even complete the login.
      assertThat(there.authenticated()).as("AuthOk through the impostor").isNotDone();
      assertThat(atImpostor.pending()).as("messages the impostor edge passed on").isZero();
      there.close();
      there.closed().get(10, TimeUnit.SECONDS);
    } finally {
      cluster.stopEdge(1);
    }

    Inbox inbox = new Inbox();
    cluster.connected(0, user, "phone", inbox);
    assertThat(inbox.take(1)).extracting(Inbox.Received::seq, Inbox.Received::text)
        .containsExactly(tuple(1L, "for trusted edges only"));
  }

  @Test
  void aCoreThatKafkaRefusesFailsToStartAndSaysWhy() {
    String password = "not-the-kafka-password";
    KafkaConnection refused = new KafkaConnection(cluster.kafka.bootstrapServers(),
        cluster.kafka.clientSecurity(TestCluster.SERVICE_USER, password));

    assertThatThrownBy(() -> new CoreServer(cluster.coreConfig(7, refused,
            cluster.redisConnection(cluster.coreIdentity()))).start())
        .hasMessageContaining("cannot create topics on " + cluster.kafka.bootstrapServers())
        .hasMessageContaining("SASL_SSL")
        .hasMessageContaining("Authentication failed")
        .hasMessageNotContaining(password);
  }

  @Test
  void anEdgeThatKafkaRefusesFailsToStartAndSaysWhy() {
    String password = "not-the-kafka-password";
    KafkaConnection refused = new KafkaConnection(cluster.kafka.bootstrapServers(),
        cluster.kafka.clientSecurity(TestCluster.SERVICE_USER, password));

    assertThatThrownBy(() -> cluster.startEdge(2, refused,
            cluster.redisConnection(cluster.edgeIdentity()),
            cluster.internalTls(cluster.edgeIdentity())))
        .hasMessageContaining("Kafka " + cluster.kafka.bootstrapServers() + " (SASL_SSL")
        .hasMessageContaining("refused the login")
        .hasMessageContaining("Authentication failed")
        .hasMessageNotContaining(password);
  }

  @Test
  void anEdgeThatRedisRefusesFailsToStartAndSaysWhy() {
    DevCertificates.Identity edge = cluster.edgeIdentity();
    String password = "not-the-redis-password";
    RedisConnection wrongPassword = new RedisConnection(cluster.redis.uri(),
        Optional.of(TestCluster.SERVICE_USER), Optional.of(password),
        Optional.of(cluster.certificates().caCertificate()), Optional.of(edge.certificate()),
        Optional.of(edge.privateKey()));
    RedisConnection noCertificate = new RedisConnection(cluster.redis.uri(),
        Optional.of(TestCluster.SERVICE_USER), Optional.of(TestCluster.REDIS_PASSWORD),
        Optional.of(cluster.certificates().caCertificate()), Optional.empty(), Optional.empty());

    assertThatThrownBy(() -> cluster.startEdge(2, cluster.kafkaConnection(), wrongPassword,
            cluster.internalTls(edge)))
        .hasMessageContaining("cannot connect to Redis " + cluster.redis.uri())
        .hasMessageContaining("WRONGPASS")
        .hasMessageNotContaining(password);
    assertThatThrownBy(() -> cluster.startEdge(2, cluster.kafkaConnection(), noCertificate,
            cluster.internalTls(edge)))
        .hasMessageContaining("cannot connect to Redis " + cluster.redis.uri());
  }

  /**
   * The whole secure cluster runs under a Redis user confined to its key prefix, as
   * docs/security.md recommends; this checks that the confinement is really in force, without
   * which the secure suites would prove nothing about that recipe.
   */
  @Test
  void theClustersRedisUserReachesItsOwnKeysAlone() {
    RedisClient client = cluster.redisConnection(cluster.coreIdentity()).newClient();
    try (var redis = client.connect()) {
      redis.sync().set(cluster.name + ":probe", "mine");
      assertThat(redis.sync().get(cluster.name + ":probe")).isEqualTo("mine");
      assertThatThrownBy(() -> redis.sync().set("another-deployment:probe", "theirs"))
          .isInstanceOf(RedisException.class).hasMessageContaining("NOPERM");
      assertThatThrownBy(() -> redis.sync().flushall())
          .isInstanceOf(RedisException.class).hasMessageContaining("NOPERM");
    } finally {
      client.shutdown();
    }
  }

  @Test
  void metricsAskForAClientCertificateWhileHealthStaysOpenToProbes() throws Exception {
    InetSocketAddress core = cluster.coreMetricsAddress(0);
    HttpClient anonymous =
        HttpClient.newBuilder().sslContext(cluster.certificates().clientContext()).build();
    HttpClient otherCa = HttpClient.newBuilder().sslContext(cluster.certificates()
        .clientContext(DevCertificates.create().peerCertificate("prometheus"))).build();

    HttpResponse<String> refused = get(anonymous, cluster.metricsUri(core, "/metrics"));
    assertThat(refused.statusCode()).isEqualTo(403);
    assertThat(refused.body()).contains("client certificate");
    assertThat(get(anonymous, cluster.metricsUri(core, "/health")).statusCode()).isEqualTo(200);
    assertThatThrownBy(() -> get(otherCa, cluster.metricsUri(core, "/metrics")))
        .isInstanceOf(IOException.class);
    assertThatThrownBy(() -> get(anonymous,
            URI.create("http://127.0.0.1:" + core.getPort() + "/metrics")))
        .isInstanceOf(IOException.class);
    assertThat(cluster.coreMetrics()).contains("homing_partitions_owned");
  }

  private static HttpResponse<String> get(HttpClient client, URI uri) throws Exception {
    return client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static void assertRefused(ManagedChannel channel, String user, String connection) {
    assertThatThrownBy(() -> TestCluster.deliverDirectly(channel, user, "phone", connection, 1, 0))
        .isInstanceOf(ExecutionException.class)
        .cause().isInstanceOf(StatusRuntimeException.class)
        .extracting(e -> ((StatusRuntimeException) e).getStatus().getCode())
        .isEqualTo(Status.Code.UNAVAILABLE);
  }

  /** TLS that trusts the edge, without a certificate of its own. */
  private static ManagedChannel tlsWithoutCertificate() throws Exception {
    return NettyChannelBuilder.forAddress("127.0.0.1", cluster.edgeGrpcPort(0),
        TlsChannelCredentials.newBuilder()
            .trustManager(cluster.certificates().caCertificate().toFile()).build())
        .build();
  }

  /** TLS that trusts the edge and presents {@code identity}, of another CA. */
  private static ManagedChannel trustingTheEdgeAs(DevCertificates.Identity identity)
      throws Exception {
    return NettyChannelBuilder.forAddress("127.0.0.1", cluster.edgeGrpcPort(0),
        TlsChannelCredentials.newBuilder()
            .trustManager(cluster.certificates().caCertificate().toFile())
            .keyManager(identity.certificate().toFile(), identity.privateKey().toFile())
            .build())
        .build();
  }
}
