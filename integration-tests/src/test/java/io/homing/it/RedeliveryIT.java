package io.homing.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.homing.api.v1.Error;
import io.homing.api.v1.SendRequest;
import io.homing.api.v1.ServerFrame;
import io.homing.core.DeliveryPolicy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Acks drive delivery: what a device leaves unacked is sent again, at most a window of messages
 * is in flight, a device that never acks is disconnected, and a message id accepted twice is
 * delivered once. Raw WebSocket clients, so the test sees every frame, resends included.
 */
class RedeliveryIT {
  private static final DeliveryPolicy POLICY =
      new DeliveryPolicy(Duration.ofMillis(700), 2, 3, Duration.ofMinutes(10));

  @RegisterExtension final TestCluster cluster = TestCluster.perTest(1, TestCluster.Options.defaults().with(POLICY));

  @Test
  void anUnackedMessageIsSentAgainUntilItIsAcked() throws Exception {
    try (RawWebSocket device = new RawWebSocket(cluster.wsUri(0))) {
      device.authenticate(cluster.token("ursula", "phone"), 0);
      cluster.sendText("hello", "ursula");

      assertThat(device.nextPushSeq(10)).isEqualTo(1);
      assertThat(device.nextPushSeq(5)).as("resent after the ack timeout").isEqualTo(1);
      device.ack(1);

      assertThat(device.nextPushSeq(3)).as("nothing once acked").isEqualTo(-1);
      assertThat(TestCluster.metric(cluster.coreMetrics(), "homing_messages_redelivered_total"))
          .isGreaterThanOrEqualTo(1);
    }
  }

  @Test
  void atMostTheWindowIsInFlightAndAcksOpenIt() throws Exception {
    try (RawWebSocket device = new RawWebSocket(cluster.wsUri(0))) {
      device.authenticate(cluster.token("wanda", "phone"), 0);
      for (int i = 1; i <= 5; i++) {
        cluster.sendText("m" + i, "wanda");
      }

      assertThat(pushes(device, 3, 10)).containsExactly(1L, 2L, 3L);
      device.ack(2);
      assertThat(device.nextPushSeq(10)).isEqualTo(4);
      device.ack(4);
      assertThat(device.nextPushSeq(10)).isEqualTo(5);
    }
  }

  @Test
  void aDeviceThatNeverAcksIsDisconnectedAndResumesOnReconnect() throws Exception {
    try (RawWebSocket device = new RawWebSocket(cluster.wsUri(0))) {
      device.authenticate(cluster.token("xavier", "phone"), 0);
      cluster.sendText("one", "xavier");

      // sent once, then resent twice (after 0.7 s and 1.4 s), then given up after 2.8 s more
      assertThat(pushes(device, 3, 10)).containsExactly(1L, 1L, 1L);
      ServerFrame last = device.next(10);
      assertThat(last.getError().getCode()).isEqualTo(Error.Code.ACK_TIMEOUT);
      assertThat(device.closed.get(10, TimeUnit.SECONDS)).isEqualTo(4007); // 4000 + ACK_TIMEOUT
      assertThat(TestCluster.metric(cluster.coreMetrics(), "homing_connections_ack_timeouts_total"))
          .isEqualTo(1);
    }
    cluster.sendText("two", "xavier");
    try (RawWebSocket device = new RawWebSocket(cluster.wsUri(0))) {
      device.authenticate(cluster.token("xavier", "phone"), 0);

      assertThat(pushes(device, 2, 10)).containsExactly(1L, 2L);
      device.ack(2);
    }
  }

  @Test
  void theSameMessageIdForTheSameUserIsDeliveredOnce() throws Exception {
    Inbox yara = new Inbox();
    Inbox zoe = new Inbox();
    cluster.connected(0, "yara", "phone", yara);
    cluster.connected(0, "zoe", "phone", zoe);

    send("order-17", "first", "yara", "zoe");
    send("order-17", "retry", "yara");
    send("order-18", "next", "yara");

    List<Inbox.Received> received = yara.take(2);
    assertThat(received).extracting(Inbox.Received::text).containsExactly("first", "next");
    assertThat(received).extracting(Inbox.Received::seq).containsExactly(1L, 2L);
    assertThat(zoe.take(1)).extracting(Inbox.Received::text).containsExactly("first");
    String core = cluster.coreMetrics();
    assertThat(TestCluster.metric(core, "homing_messages_duplicates_total")).isEqualTo(1);
    assertThat(TestCluster.metric(core, "homing_messages_accepted_total")).isEqualTo(3);
    assertThat(TestCluster.metric(cluster.edgeMetrics(0), "homing_edge_connections"))
        .isEqualTo(2);
  }

  private void send(String id, String text, String... users) {
    cluster.send().send(SendRequest.newBuilder()
        .addAllUserIds(List.of(users))
        .setMessageId(id)
        .setPayload(ByteString.copyFromUtf8(text))
        .build());
  }

  private static List<Long> pushes(RawWebSocket device, int count, double seconds)
      throws Exception {
    List<Long> seqs = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      long seq = device.nextPushSeq(seconds);
      if (seq < 0) {
        break;
      }
      seqs.add(seq);
    }
    return seqs;
  }
}
