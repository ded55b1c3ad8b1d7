package io.homing.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import com.google.protobuf.util.Durations;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.homing.api.v1.DeviceStatus;
import io.homing.api.v1.GetStatusRequest;
import io.homing.api.v1.GetStatusResponse;
import io.homing.api.v1.GetStatusResponse.State;
import io.homing.api.v1.SendRequest;
import io.homing.client.HomingConnection;
import io.homing.core.QueueLimits;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * GetStatus end to end: two cores sharing the partitions, every call made to the first core's
 * Send API, which answers for its own partitions and forwards the others to their owner over
 * the cores' internal port (found in Redis).
 */
class GetStatusIT {
  @RegisterExtension
  static final TestCluster cluster = TestCluster.perClass(1, TestCluster.Options.defaults()
      .with(new QueueLimits(2, 64 * 1024 * 1024, QueueLimits.WhenFull.REJECT)));

  @BeforeAll
  static void secondCore() throws Exception {
    cluster.startCore(1);
    assertThat(cluster.awaitCoreMetric(1, "homing_partitions_owned", owned -> owned > 0,
        Duration.ofSeconds(30))).as("core-1 owns partitions").isPositive();
    assertThat(cluster.awaitCoreMetric(0, "homing_partitions_owned", owned -> owned < 4,
        Duration.ofSeconds(30))).as("core-0 gave some up").isLessThan(4);
  }

  @Test
  void answersForEveryUserWhicheverCoreOwnsHerPartition() {
    Set<String> answeredBy = new HashSet<>();
    for (int i = 0; i < 12; i++) {
      String user = "user-" + i + "-" + UUID.randomUUID();
      String id = cluster.sendText("hello", user).getMessageId();
      GetStatusResponse status = awaitStatus(user, id);
      assertThat(status.getState()).isEqualTo(State.QUEUED);
      assertThat(status.getSeq()).isEqualTo(1);
      assertThat(status.getAcceptedAtMs()).isPositive();
      answeredBy.add(status.getAnsweredBy());
    }
    assertThat(answeredBy).as("answered by the owners, through the first core")
        .containsExactlyInAnyOrder("core-0", "core-1");
  }

  @Test
  void followsAMessageFromQueuedToAckedPerDevice() throws Exception {
    String user = "alice-" + UUID.randomUUID();
    Inbox phoneInbox = new Inbox();
    HomingConnection phone = cluster.connected(0, user, "phone", phoneInbox);
    HomingConnection laptop = cluster.track(cluster.client(0, user, "laptop")
        .autoAck(false).listener(new Inbox()).connect());
    laptop.authenticated().get();
    String id = cluster.sendText("hi", user).getMessageId();
    phoneInbox.take(1);

    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      GetStatusResponse status = status(user, id);
      assertThat(status.getState()).isEqualTo(State.QUEUED);
      assertThat(status.getDevicesList()).extracting(DeviceStatus::getDeviceId,
          DeviceStatus::getAcked, DeviceStatus::getDelivered, DeviceStatus::getConnected)
          .containsExactly(
              org.assertj.core.groups.Tuple.tuple("laptop", false, true, true),
              org.assertj.core.groups.Tuple.tuple("phone", true, false, true));
    });

    laptop.ack(1);
    await().atMost(Duration.ofSeconds(10))
        .until(() -> status(user, id).getState() == State.ACKED);
    phone.close();
  }

  @Test
  void saysRejectedAndExpired() throws Exception {
    String user = "bob-" + UUID.randomUUID();
    List<String> ids = List.of(cluster.sendText("one", user).getMessageId(),
        cluster.sendText("two", user).getMessageId());
    await().atMost(Duration.ofSeconds(10))
        .until(() -> status(user, ids.get(1)).getState() == State.QUEUED);
    // The queue holds two: a third written to Kafka directly is refused when core applies it.
    String third = "third-" + UUID.randomUUID();
    cluster.produce(user, "three", third);
    awaitStatusOf(user, third, State.REJECTED);

    String carol = "carol-" + UUID.randomUUID();
    String expiring = cluster.send().send(SendRequest.newBuilder().addUserIds(carol)
        .setPayload(ByteString.copyFromUtf8("soon gone")).setTtl(Durations.fromMillis(300))
        .build()).getMessageId();
    awaitStatusOf(carol, expiring, State.EXPIRED);
  }

  @Test
  void refusesWhatItCannotKnow() {
    String user = "dave-" + UUID.randomUUID();
    assertThatThrownBy(() -> status(user, "never-sent"))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
    assertThatThrownBy(() -> status("", "x"))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
  }

  private static GetStatusResponse status(String user, String messageId) {
    return cluster.send().getStatus(
        GetStatusRequest.newBuilder().setUserId(user).setMessageId(messageId).build());
  }

  /** The status once the owner applied the message (NOT_FOUND until then). */
  private static GetStatusResponse awaitStatus(String user, String messageId) {
    GetStatusResponse[] found = new GetStatusResponse[1];
    await().atMost(Duration.ofSeconds(15)).ignoreException(StatusRuntimeException.class)
        .until(() -> (found[0] = status(user, messageId)) != null);
    return found[0];
  }

  private static void awaitStatusOf(String user, String messageId, State state) {
    await().atMost(Duration.ofSeconds(15)).ignoreException(StatusRuntimeException.class)
        .until(() -> status(user, messageId).getState() == state);
  }
}
