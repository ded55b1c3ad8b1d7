package io.homing.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.homing.api.v1.AuthOk;
import io.homing.client.HomingConnection;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A message's whole path: producer → Kafka → core → store → edge → WebSocket client → ack. */
class DeliveryIT {
  @RegisterExtension final TestCluster cluster = TestCluster.perTest(2);

  @Test
  void onlineClientReceivesSendApiAndKafkaMessagesInOrder() throws Exception {
    Inbox alice = new Inbox();
    cluster.connected(0, "alice", "phone", alice);

    cluster.sendText("through the Send API", "alice");
    cluster.produce("alice", "straight to Kafka");

    assertThat(alice.take(2))
        .extracting(Inbox.Received::seq, Inbox.Received::text)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(1L, "through the Send API"),
            org.assertj.core.groups.Tuple.tuple(2L, "straight to Kafka"));
  }

  @Test
  void offlineMessagesArriveOnConnectInOrderAndAckedOnesAreNotResent() throws Exception {
    for (int i = 1; i <= 3; i++) {
      cluster.sendText("while away " + i, "bob");
    }
    Inbox first = new Inbox();
    HomingConnection connection =
        cluster.track(cluster.client(0, "bob", "laptop").listener(first).autoAck(false).connect());
    connection.authenticated().get(10, TimeUnit.SECONDS);
    assertThat(first.take(3))
        .extracting(Inbox.Received::seq, Inbox.Received::text)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(1L, "while away 1"),
            org.assertj.core.groups.Tuple.tuple(2L, "while away 2"),
            org.assertj.core.groups.Tuple.tuple(3L, "while away 3"));
    connection.ack(2);
    connection.close();
    connection.closed().get(10, TimeUnit.SECONDS);

    // Same edge, same device: its Ack event precedes the next Connected event in the partition.
    Inbox second = new Inbox();
    cluster.connected(0, "bob", "laptop", second);
    cluster.sendText("after reconnect", "bob");
    assertThat(second.take(2))
        .extracting(Inbox.Received::seq, Inbox.Received::text)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(3L, "while away 3"),
            org.assertj.core.groups.Tuple.tuple(4L, "after reconnect"));
  }

  @Test
  void messagesSentWhileADeviceConnectsArriveWithoutGapsBehindItsBacklog() throws Exception {
    // A live message may be applied before the device's Connected event (they travel on different
    // topics); core must still send the backlog first. Many users make the race likely.
    int users = 8;
    List<Inbox> inboxes = new java.util.ArrayList<>();
    for (int u = 0; u < users; u++) {
      for (int i = 1; i <= 3; i++) {
        cluster.sendText("offline " + i, "racer-" + u);
      }
    }
    for (int u = 0; u < users; u++) {
      Inbox inbox = new Inbox();
      inboxes.add(inbox);
      cluster.track(cluster.client(u % 2, "racer-" + u, "phone").listener(inbox).connect());
      cluster.sendText("online 4", "racer-" + u);
      cluster.sendText("online 5", "racer-" + u);
    }
    for (Inbox inbox : inboxes) {
      assertThat(inbox.take(5)).extracting(Inbox.Received::seq).containsExactly(1L, 2L, 3L, 4L, 5L);
    }
  }

  @Test
  void coreRoutesEachUserToTheEdgeHoldingTheirConnection() throws Exception {
    Inbox carol = new Inbox();
    Inbox dave = new Inbox();
    AuthOk onFirst = cluster.connected(0, "carol", "phone", carol).authenticated().get();
    AuthOk onSecond = cluster.connected(1, "dave", "phone", dave).authenticated().get();
    assertThat(onFirst.getNodeId()).isEqualTo("edge-0");
    assertThat(onSecond.getNodeId()).isEqualTo("edge-1");

    cluster.sendText("to both", "carol", "dave");

    assertThat(carol.take(1)).extracting(Inbox.Received::text).containsExactly("to both");
    assertThat(dave.take(1)).extracting(Inbox.Received::text).containsExactly("to both");
  }

  @Test
  void jsonClientOnTextFramesReceivesTheSameMessages() throws Exception {
    Inbox erin = new Inbox();
    HomingConnection connection =
        cluster.track(cluster.client(1, "erin", "browser").json(true).listener(erin).connect());
    assertThat(connection.authenticated().get(10, TimeUnit.SECONDS).getUserId())
        .isEqualTo("erin");

    cluster.sendText("{\"hello\":\"browser\"}", "erin");

    List<Inbox.Received> received = erin.take(1);
    assertThat(received.get(0).text()).isEqualTo("{\"hello\":\"browser\"}");
    assertThat(received.get(0).message().getContentType()).isEqualTo("text/plain");
  }

  @Test
  void restartedCoreContinuesTheSeqsItAssignedBefore() throws Exception {
    cluster.sendText("before restart", "frank");
    Inbox early = new Inbox();
    HomingConnection first = cluster.connected(0, "frank", "phone", early);
    assertThat(early.take(1)).extracting(Inbox.Received::seq).containsExactly(1L);
    first.close();

    cluster.stopCore();
    cluster.startCore();
    cluster.sendText("after restart", "frank");

    Inbox late = new Inbox();
    cluster.connected(0, "frank", "phone", late);
    assertThat(late.take(1, Duration.ofSeconds(30)))
        .extracting(Inbox.Received::seq, Inbox.Received::text)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(2L, "after restart"));
  }

  @Test
  void aCoreThatLostItsDiskRestoresItsQueuesFromTheChangelog() throws Exception {
    for (int i = 1; i <= 3; i++) {
      cluster.sendText("kept " + i, "nina");
    }
    Inbox first = new Inbox();
    HomingConnection connection =
        cluster.track(cluster.client(0, "nina", "phone").listener(first).autoAck(false).connect());
    assertThat(first.take(3)).extracting(Inbox.Received::seq).containsExactly(1L, 2L, 3L);
    connection.ack(1);
    connection.close();
    connection.closed().get(10, TimeUnit.SECONDS);
    // The ack precedes the disconnect in the user's partition: once core dropped the stream,
    // the store holds the ack.
    assertThat(cluster.awaitCoreMetric(0, "homing_device_streams", streams -> streams == 0,
        Duration.ofSeconds(15))).as("core saw the disconnect").isZero();

    cluster.stopCore();
    cluster.wipeCoreStore();
    cluster.startCore();
    cluster.sendText("after the disk was lost", "nina");

    Inbox second = new Inbox();
    cluster.connected(0, "nina", "phone", second);
    assertThat(second.take(3, Duration.ofSeconds(30)))
        .extracting(Inbox.Received::seq, Inbox.Received::text)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(2L, "kept 2"),
            org.assertj.core.groups.Tuple.tuple(3L, "kept 3"),
            org.assertj.core.groups.Tuple.tuple(4L, "after the disk was lost"));
    assertThat(cluster.awaitCoreMetric("homing_changelog_restored_total", 1))
        .as("rebuilt from the changelog, not from a replay of outbound").isGreaterThan(0);
  }
}
