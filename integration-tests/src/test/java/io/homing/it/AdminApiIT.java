package io.homing.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.homing.api.v1.AdminServiceGrpc;
import io.homing.api.v1.DeviceInfo;
import io.homing.api.v1.EdgeInfo;
import io.homing.api.v1.EraseUserRequest;
import io.homing.api.v1.EraseUserResponse;
import io.homing.api.v1.Error;
import io.homing.api.v1.GetUserRequest;
import io.homing.api.v1.KickDeviceRequest;
import io.homing.api.v1.ListEdgesRequest;
import io.homing.api.v1.ListPartitionsRequest;
import io.homing.api.v1.ListPartitionsResponse;
import io.homing.api.v1.PartitionInfo;
import io.homing.api.v1.ServerFrame;
import io.homing.api.v1.SetPausedRequest;
import io.homing.api.v1.UserInfo;
import io.homing.cli.HomingCli;
import io.homing.client.HomingConnection;
import io.homing.client.SendApiKey;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import picocli.CommandLine;

/**
 * The admin API end to end, on a core and an edge with real Kafka and Redis: what it shows of a
 * user, kicking, erasing, pausing, the cluster views, and who may call it.
 */
class AdminApiIT {
  @RegisterExtension static final TestCluster cluster = TestCluster.perClass(1);

  private static ManagedChannel channel;

  @BeforeAll
  static void open() {
    channel = NettyChannelBuilder.forAddress("127.0.0.1", cluster.coreAdminPort(0))
        .usePlaintext().build();
  }

  @AfterAll
  static void close() {
    channel.shutdownNow();
  }

  private static AdminServiceGrpc.AdminServiceBlockingStub admin() {
    return admin(TestCluster.ADMIN_KEY);
  }

  private static AdminServiceGrpc.AdminServiceBlockingStub admin(String key) {
    return AdminServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
        .withInterceptors(SendApiKey.interceptor(key));
  }

  private static UserInfo user(String user) {
    return admin().getUser(GetUserRequest.newBuilder().setUserId(user).build());
  }

  private static String newUser() {
    return "admin-" + UUID.randomUUID();
  }

  @Test
  void showsAUsersQueueOldestMessageAndDevicesWithTheirEdgesAndCursors() throws Exception {
    String user = newUser();
    long before = System.currentTimeMillis();
    cluster.sendText("one", user);
    cluster.sendText("two", user);
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      UserInfo info = user(user);
      assertThat(info.getQueuedMessages()).isEqualTo(2);
      assertThat(info.getQueuedBytes()).isPositive();
      assertThat(info.getOldestSeq()).isEqualTo(1);
      assertThat(info.getOldestCreatedAtMs()).isBetween(before, System.currentTimeMillis());
      assertThat(info.getLastSeq()).isEqualTo(2);
      assertThat(info.getAnsweredBy()).isEqualTo("core-0");
      assertThat(info.getDevicesList()).isEmpty();
    });
    assertThat(cluster.awaitCoreMetric("homing_queued_messages", 2))
        .as("the core's estimate of what its queues hold").isGreaterThanOrEqualTo(2);

    Inbox inbox = new Inbox();
    cluster.connected(0, user, "phone", inbox);
    inbox.take(2);
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      UserInfo info = user(user);
      assertThat(info.getQueuedMessages()).as("acked by her only device").isZero();
      assertThat(info.getOldestSeq()).isZero();
      assertThat(info.getDevicesList()).singleElement().satisfies(device -> {
        assertThat(device.getDeviceId()).isEqualTo("phone");
        assertThat(device.getAckedSeq()).isEqualTo(2);
        assertThat(device.getConnected()).isTrue();
        assertThat(device.getEdgeNode()).isEqualTo("edge-0");
        assertThat(device.getConnectionId()).isNotEmpty();
        assertThat(device.getSentSeq()).isEqualTo(2);
        assertThat(device.getInFlight()).isZero();
        assertThat(device.getLastSeenMs()).isGreaterThanOrEqualTo(before);
      });
    });
  }

  @Test
  void anUnknownUserIsNotFound() {
    assertThatThrownBy(() -> user(newUser()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
  }

  @Test
  void kickClosesTheDevicesConnectionWithKicked() throws Exception {
    String user = newUser();
    try (RawWebSocket socket = new RawWebSocket(cluster.wsUri(0))) {
      socket.authenticate(cluster.token(user, "tablet"), 0);
      await().atMost(Duration.ofSeconds(10)).until(() -> admin().kickDevice(
              KickDeviceRequest.newBuilder().setUserId(user).setDeviceId("tablet")
                  .setReason("moving you").build()).getKickedDeviceIdsList(),
          kicked -> kicked.contains("tablet"));
      ServerFrame frame = socket.next(10);
      assertThat(frame).isNotNull();
      assertThat(frame.getError().getCode()).isEqualTo(Error.Code.KICKED);
      assertThat(frame.getError().getMessage()).isEqualTo("moving you");
    }
    assertThat(admin().kickDevice(KickDeviceRequest.newBuilder().setUserId(user).build())
        .getKickedDeviceIdsList()).as("nothing connected any more").isEmpty();
  }

  @Test
  void eraseRemovesQueueDevicesAndTargetsButSeqsGoOn() throws Exception {
    String user = newUser();
    Inbox inbox = new Inbox();
    HomingConnection phone = cluster.connected(0, user, "phone", inbox);
    cluster.sendText("one", user);
    inbox.take(1);
    phone.close();
    cluster.sendText("two", user);
    cluster.sendText("three", user);
    await().atMost(Duration.ofSeconds(10))
        .until(() -> user(user).getQueuedMessages(), queued -> queued == 2);

    EraseUserResponse erased =
        admin().eraseUser(EraseUserRequest.newBuilder().setUserId(user).build());

    assertThat(erased.getApplied()).isTrue();
    assertThat(erased.getUser().getQueuedMessages()).isZero();
    assertThat(erased.getUser().getDevicesList()).isEmpty();
    assertThat(erased.getUser().getLastSeq()).as("seqs stay dense").isEqualTo(3);
    assertThat(erased.getRemainsList()).extracting(EraseUserResponse.Remains::getWhere)
        .contains(cluster.topics.outbound(), cluster.topics.storeChangelog(), "redis");
    assertThat(erased.getRemainsList())
        .filteredOn(r -> r.getWhere().equals(cluster.topics.outbound())).singleElement()
        .satisfies(r -> assertThat(r.getRetentionMs()).isPositive());
    assertThat(erased.getRemainsList())
        .filteredOn(r -> r.getWhere().equals(cluster.topics.storeChangelog())).singleElement()
        .satisfies(r -> {
          assertThat(r.getRetentionUnknown()).isFalse();
          assertThat(r.getRetentionMs()).as("a week of compaction lag, then a day of tombstones")
              .isEqualTo(Duration.ofDays(8).toMillis());
        });

    cluster.sendText("four", user);
    Inbox after = new Inbox();
    cluster.connected(0, user, "laptop", after);
    assertThat(after.take(1)).extracting(Inbox.Received::seq, Inbox.Received::text)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(4L, "four"));
    Thread.sleep(500);
    assertThat(after.pending()).as("nothing from before the erase").isZero();
  }

  @Test
  void aPausedUserGetsNothingUntilResumed() throws Exception {
    String user = newUser();
    Inbox inbox = new Inbox();
    cluster.connected(0, user, "phone", inbox);
    UserInfo paused =
        admin().setPaused(SetPausedRequest.newBuilder().setUserId(user).setPaused(true).build());
    assertThat(paused.getPaused()).isTrue();

    cluster.sendText("held", user);
    await().atMost(Duration.ofSeconds(10))
        .until(() -> user(user).getQueuedMessages(), queued -> queued == 1);
    Thread.sleep(1000);
    assertThat(inbox.pending()).as("nothing while paused").isZero();

    UserInfo resumed =
        admin().setPaused(SetPausedRequest.newBuilder().setUserId(user).setPaused(false).build());
    assertThat(resumed.getPaused()).isFalse();
    assertThat(inbox.take(1)).extracting(Inbox.Received::text).containsExactly("held");
  }

  @Test
  void listsTheEdgesAndThePartitionsWithOwnersAndLag() {
    assertThat(admin().listEdges(ListEdgesRequest.getDefaultInstance()).getEdgesList())
        .extracting(EdgeInfo::getNodeId).contains("edge-0");
    assertThat(admin().listEdges(ListEdgesRequest.getDefaultInstance()).getEdgesList())
        .allSatisfy(edge -> {
          assertThat(edge.getAddress()).contains(":");
          assertThat(edge.getTtlMs()).isPositive();
        });
    cluster.sendText("counted", newUser());
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      ListPartitionsResponse partitions =
          admin().listPartitions(ListPartitionsRequest.getDefaultInstance());
      assertThat(partitions.getPartitionsList()).hasSize(4)
          .extracting(PartitionInfo::getOwner).containsOnly("core-0");
      assertThat(partitions.getPartitionsList()).allSatisfy(p -> {
        assertThat(p.getOutboundLag()).isZero();
        assertThat(p.getEventsLag()).isZero();
      });
      assertThat(partitions.getPartitionsList()).filteredOn(p -> p.getOutboundEnd() > 0)
          .allSatisfy(p -> assertThat(p.getOutboundCommitted()).isEqualTo(p.getOutboundEnd()));
      assertThat(partitions.getPartitionsList())
          .anySatisfy(p -> assertThat(p.getOutboundEnd()).isPositive());
    });
  }

  @Test
  void onlyAdminKeysGetInAndEachActsOnItsUsersOnly() {
    assertThatThrownBy(() -> AdminServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(10, TimeUnit.SECONDS).listEdges(ListEdgesRequest.getDefaultInstance()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
    assertThatThrownBy(() -> admin(TestCluster.API_KEY)
        .listEdges(ListEdgesRequest.getDefaultInstance()))
        .as("a Send API key is no admin key")
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
    assertThatThrownBy(() -> admin(TestCluster.SUPPORT_ADMIN_KEY).eraseUser(
        EraseUserRequest.newBuilder().setUserId("alice").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
    assertThatThrownBy(() -> admin(TestCluster.SUPPORT_ADMIN_KEY)
        .listPartitions(ListPartitionsRequest.getDefaultInstance()))
        .as("a key for some users sees no addresses of the deployment")
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
    String supported = "support-" + UUID.randomUUID();
    cluster.sendText("hi", supported);
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(admin(TestCluster.SUPPORT_ADMIN_KEY).getUser(
            GetUserRequest.newBuilder().setUserId(supported).build()).getLastSeq())
            .isEqualTo(1));
    assertThatThrownBy(() -> admin().getUser(GetUserRequest.newBuilder().setUserId(" ").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
  }

  @Test
  void theHomingAdminCommandShowsUsersEdgesAndPartitions() throws Exception {
    String user = newUser();
    cluster.sendText("hello", user);
    String[] connection = {"--admin-api", "127.0.0.1:" + cluster.coreAdminPort(0),
        "--admin-key", TestCluster.ADMIN_KEY};
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(cli("admin", "user", user, connection[0], connection[1], connection[2],
            connection[3]))
            .startsWith("0\n")
            .contains("user " + user + ": partition ")
            .contains("queued: 1 message(s)")
            .contains("oldest seq 1"));
    assertThat(cli("admin", "user", newUser(), connection[0], connection[1], connection[2],
        connection[3])).as("not found").startsWith("2\n");
    assertThat(cli("admin", "edges", connection[0], connection[1], connection[2],
        connection[3])).startsWith("0\n").contains("edge-0");
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> // owners register within 3 s
        assertThat(cli("admin", "partitions", "--json", connection[0], connection[1],
            connection[2], connection[3])).startsWith("0\n")
            .contains("\"owner\": \"core-0\""));
    assertThat(cli("admin", "erase", user, connection[0], connection[1], connection[2],
        connection[3])).as("asks for --yes").startsWith("1\n");
    assertThat(cli("admin", "erase", user, "--yes", connection[0], connection[1],
        connection[2], connection[3])).startsWith("0\n").contains("erased " + user)
        .contains(cluster.topics.outbound());
  }

  /** Runs the CLI in this JVM; returns its exit code, a newline, and what it printed. */
  private static synchronized String cli(String... args) {
    PrintStream out = System.out;
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
    try {
      int code = new CommandLine(HomingCli.class).execute(args);
      return code + "\n" + printed.toString(StandardCharsets.UTF_8);
    } finally {
      System.setOut(out);
    }
  }

  @Test
  void theAdminPortAnswersHealthChecks() {
    assertThat(HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
        .check(HealthCheckRequest.newBuilder().setService("homing.v1.AdminService").build())
        .getStatus()).isEqualTo(ServingStatus.SERVING);
  }

  @Test
  void devicesAreListedInOrder() throws Exception {
    String user = newUser();
    cluster.connected(0, user, "b-laptop", new Inbox());
    cluster.connected(0, user, "a-phone", new Inbox());
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(user(user).getDevicesList()).extracting(DeviceInfo::getDeviceId)
            .containsExactly("a-phone", "b-laptop"));
  }
}
