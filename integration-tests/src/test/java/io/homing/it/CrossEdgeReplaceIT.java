package io.homing.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.homing.api.PresenceKeys;
import io.homing.api.v1.Error;
import io.homing.client.HomingConnection;
import io.lettuce.core.RedisClient;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A device that connects on one edge ends its connection on another: the old one is told
 * Error{REPLACED} and closed within seconds, not left open until its idle timeout.
 */
class CrossEdgeReplaceIT {
  @RegisterExtension static final TestCluster cluster = TestCluster.perClass(2);

  private static final String REMOTE = "homing_edge_replaced_total{where=\"remote\"}";
  private static final String LOCAL = "homing_edge_replaced_total{where=\"local\"}";

  @Test
  void theOldConnectionOnAnotherEdgeIsToldReplacedAndClosedWithinTwoSeconds() throws Exception {
    double remoteBefore = TestCluster.metric(cluster.edgeMetrics(0), REMOTE);
    assertThat(remoteBefore).isNotNaN();
    HomingConnection old = cluster.connected(0, "uma", "phone", new Inbox());
    Inbox laptop = new Inbox();
    HomingConnection onLaptop = cluster.connected(0, "uma", "laptop", laptop);

    Inbox phone = new Inbox();
    HomingConnection moved = cluster.track(cluster.client(1, "uma", "phone").listener(phone)
        .connect());

    assertThat(old.closed().get(2, TimeUnit.SECONDS))
        .isEqualTo("REPLACED: the same device connected on another edge");
    assertThat(old.lastError().getCode()).isEqualTo(Error.Code.REPLACED);
    moved.authenticated().get(10, TimeUnit.SECONDS);
    cluster.sendText("after the move", "uma");
    assertThat(phone.take(1)).extracting(Inbox.Received::text).containsExactly("after the move");
    assertThat(laptop.take(1)).extracting(Inbox.Received::text).containsExactly("after the move");
    assertThat(moved.closed()).isNotDone();
    assertThat(onLaptop.closed()).isNotDone();
    assertThat(TestCluster.metric(cluster.edgeMetrics(0), REMOTE)).isEqualTo(remoteBefore + 1);
  }

  @Test
  void aDeviceMovingBackAndForthKeepsOnlyItsNewestConnection() throws Exception {
    HomingConnection first = cluster.connected(0, "vic", "phone", new Inbox());
    HomingConnection second = cluster.connected(1, "vic", "phone", new Inbox());
    assertThat(first.closed().get(2, TimeUnit.SECONDS)).startsWith("REPLACED");
    Inbox newest = new Inbox();
    HomingConnection third = cluster.connected(0, "vic", "phone", newest);
    assertThat(second.closed().get(2, TimeUnit.SECONDS)).startsWith("REPLACED");

    cluster.sendText("to the newest", "vic");
    assertThat(newest.take(1)).extracting(Inbox.Received::text).containsExactly("to the newest");
    assertThat(third.closed()).isNotDone();
  }

  @Test
  void aReplacementOnTheSameEdgeCountsAsLocal() throws Exception {
    double localBefore = TestCluster.metric(cluster.edgeMetrics(1), LOCAL);
    double remoteBefore = TestCluster.metric(cluster.edgeMetrics(1), REMOTE);
    assertThat(localBefore).isNotNaN();
    HomingConnection first = cluster.connected(1, "xia", "phone", new Inbox());
    cluster.connected(1, "xia", "phone", new Inbox());

    assertThat(first.closed().get(2, TimeUnit.SECONDS))
        .isEqualTo("REPLACED: the same device connected again");
    assertThat(TestCluster.metric(cluster.edgeMetrics(1), LOCAL)).isEqualTo(localBefore + 1);
    assertThat(TestCluster.metric(cluster.edgeMetrics(1), REMOTE)).isEqualTo(remoteBefore);
  }

  @Test
  void aNoticeNamingAnOlderConnectionLeavesTheDevicesNewerOneOpen() throws Exception {
    Inbox inbox = new Inbox();
    HomingConnection current = cluster.connected(0, "wes", "phone", inbox);
    HomingConnection other = cluster.connected(0, "wes", "tablet", new Inbox());
    String tablet = PresenceKeys.connectionOf(cluster.presenceRoute("wes", "tablet"));

    // notices on one channel are handled in order: once the tablet's is, the stale one was too
    publish(notice("wes", "phone", "an-older-connection"));
    publish(notice("wes", "tablet", tablet));
    assertThat(other.closed().get(2, TimeUnit.SECONDS)).startsWith("REPLACED");

    assertThat(current.closed()).isNotDone();
    cluster.sendText("still here", "wes");
    assertThat(inbox.take(1)).extracting(Inbox.Received::text).containsExactly("still here");
  }

  /** A notice as an edge writes it (docs/architecture.md). */
  private static String notice(String user, String device, String connectionId) {
    return user.length() + ":" + user + device.length() + ":" + device + connectionId;
  }

  private static void publish(String notice) {
    RedisClient client = RedisClient.create(cluster.redis.uri());
    try (var connection = client.connect()) {
      long listeners = connection.sync()
          .publish(new PresenceKeys(cluster.name + ":").replaced("edge-0"), notice);
      assertThat(listeners).as("edge-0 subscribers").isEqualTo(1);
    } finally {
      client.shutdown();
    }
  }
}
