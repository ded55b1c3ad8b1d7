package io.homing.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Redis holds soft state only: restarted empty, the edges register their connections again
 * within seconds, and connected devices keep getting their messages — messages sent meanwhile
 * wait in the store.
 */
class RedisRestartIT {
  @RegisterExtension final TestCluster cluster = TestCluster.perTest(1, TestCluster.Options.defaults().withOwnRedis());

  @Test
  void edgesRegisterTheirConnectionsAgainAndACoreStartedAfterwardsFindsThem() throws Exception {
    Inbox inbox = new Inbox();
    cluster.connected(0, "carl", "phone", inbox);
    cluster.sendText("before", "carl");
    assertThat(inbox.take(1)).extracting(Inbox.Received::seq).containsExactly(1L);

    cluster.redis.restart();
    awaitPresence("carl", "phone");
    cluster.stopCore();
    cluster.startCore(); // knows the device only through Redis
    cluster.sendText("after", "carl");

    assertThat(inbox.take(1)).extracting(Inbox.Received::seq, Inbox.Received::text)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(2L, "after"));
  }

  @Test
  void messagesSentWhileRedisIsEmptyReachTheConnectedDeviceOnceTheEdgeIsBack() throws Exception {
    Inbox inbox = new Inbox();
    cluster.connected(0, "dora", "phone", inbox);
    cluster.sendText("before", "dora");
    assertThat(inbox.take(1)).extracting(Inbox.Received::seq).containsExactly(1L);

    cluster.redis.restart(); // the edge's liveness key is gone: core takes it for dead
    cluster.sendText("while empty", "dora");

    assertThat(inbox.take(1, Duration.ofSeconds(20)))
        .extracting(Inbox.Received::seq, Inbox.Received::text)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(2L, "while empty"));
  }

  private void awaitPresence(String user, String device) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (cluster.presenceRoute(user, device) == null && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    assertThat(cluster.presenceRoute(user, device)).as("presence of %s/%s", user, device)
        .isNotNull();
  }
}
