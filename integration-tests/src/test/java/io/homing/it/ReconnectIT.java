package io.homing.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.homing.client.HomingClient;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The client library reconnects on its own and the application sees every message once. */
class ReconnectIT {
  @RegisterExtension final TestCluster cluster = TestCluster.perTest(2);

  @Test
  void aClientWhoseEdgeStopsResumesOnTheOtherEdgeWithEveryMessageOnceInOrder() throws Exception {
    Inbox inbox = new Inbox();
    List<String> disconnects = new CopyOnWriteArrayList<>();
    try (HomingClient client =
        HomingClient.builder(List.of(cluster.wsUri(0), cluster.wsUri(1)),
                () -> cluster.token("anna", "phone"))
            .listener(inbox)
            .onDisconnect(disconnects::add)
            .backoff(Duration.ofMillis(50), Duration.ofMillis(500))
            .start()) {
      awaitSessions(client, 1);
      for (int i = 1; i <= 5; i++) {
        cluster.sendText("before " + i, "anna");
      }
      assertThat(inbox.take(5)).extracting(Inbox.Received::seq)
          .containsExactly(1L, 2L, 3L, 4L, 5L);

      cluster.stopEdge(0);
      for (int i = 6; i <= 10; i++) {
        cluster.sendText("after " + i, "anna");
      }

      assertThat(inbox.take(5)).extracting(Inbox.Received::seq)
          .containsExactly(6L, 7L, 8L, 9L, 10L);
      assertThat(client.sessions()).isEqualTo(2);
      // the listener runs before lastDelivered moves: the last message may still be in it
      long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
      while (client.lastDelivered() < 10 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertThat(client.lastDelivered()).isEqualTo(10);
      assertThat(disconnects).as("disconnects %s", disconnects).singleElement().asString()
          .startsWith("SHUTTING_DOWN");
    }
  }

  @Test
  void aClientStartedBeforeItsEdgeIsUpKeepsTryingUntilItConnects() throws Exception {
    Inbox inbox = new Inbox();
    cluster.sendText("queued", "bruno");
    List<String> disconnects = new CopyOnWriteArrayList<>();
    try (HomingClient client =
        HomingClient.builder(List.of(cluster.unusedWsUri(), cluster.wsUri(1)),
                () -> cluster.token("bruno", "laptop"))
            .listener(inbox)
            .onDisconnect(disconnects::add)
            .backoff(Duration.ofMillis(50), Duration.ofMillis(500))
            .start()) {
      assertThat(inbox.take(1)).extracting(Inbox.Received::text).containsExactly("queued");
      assertThat(disconnects).first().asString().startsWith("connect failed");
      assertThat(client.sessions()).isEqualTo(1);
    }
  }

  private static void awaitSessions(HomingClient client, long sessions)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (client.sessions() < sessions && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(client.sessions()).isEqualTo(sessions);
  }
}
