package io.homing.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.homing.api.v1.DeliveryResult;
import io.homing.api.v1.Error;
import io.homing.client.HomingConnection;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** How the edge ends sessions: a newer connection of the device, an edge shutting down. */
class SessionIT {
  @RegisterExtension final TestCluster cluster = TestCluster.perTest(2);

  @Test
  void aNewerConnectionOfTheSameDeviceOnTheSameEdgeReplacesTheOlderOne() throws Exception {
    Inbox old = new Inbox();
    HomingConnection first = cluster.connected(0, "paul", "phone", old);
    Inbox fresh = new Inbox();
    cluster.connected(0, "paul", "phone", fresh);

    assertThat(first.closed().get(10, TimeUnit.SECONDS)).startsWith("REPLACED");
    assertThat(first.lastError().getCode()).isEqualTo(Error.Code.REPLACED);

    cluster.sendText("to the newer connection", "paul");
    assertThat(fresh.take(1)).extracting(Inbox.Received::text)
        .containsExactly("to the newer connection");
  }

  @Test
  void theEdgeWritesADeliveryOnlyToTheConnectionCoreNamed() throws Exception {
    Inbox inbox = new Inbox();
    cluster.connected(0, "sam", "phone", inbox);
    String route = cluster.presenceRoute("sam", "phone");
    String connectionId = route.substring(route.indexOf('|') + 1);

    assertThat(cluster.deliverDirectly(0, "sam", "phone", "an-older-connection", 1))
        .isEqualTo(DeliveryResult.Outcome.NOT_CONNECTED);
    assertThat(cluster.deliverDirectly(0, "sam", "phone", connectionId, 1))
        .isEqualTo(DeliveryResult.Outcome.WRITTEN);
    assertThat(inbox.take(1)).extracting(Inbox.Received::seq).containsExactly(1L);
  }

  @Test
  void aClientThatMissedAPushClosesAndResumesInsteadOfSkippingIt() throws Exception {
    Inbox inbox = new Inbox();
    HomingConnection connection = cluster.connected(0, "tina", "phone", inbox);
    String route = cluster.presenceRoute("tina", "phone");
    String connectionId = route.substring(route.indexOf('|') + 1);

    cluster.deliverDirectly(0, "tina", "phone", connectionId, 1, 0);
    assertThat(inbox.take(1)).extracting(Inbox.Received::seq).containsExactly(1L);
    cluster.deliverDirectly(0, "tina", "phone", connectionId, 3, 2); // 2 never came

    assertThat(connection.closed().get(10, TimeUnit.SECONDS)).startsWith("gap");
    assertThat(connection.lastDelivered()).isEqualTo(1);
  }

  @Test
  void aDeviceThatMovedToAnotherEdgeGetsItsMessagesThere() throws Exception {
    Inbox old = new Inbox();
    HomingConnection first = cluster.connected(0, "rita", "phone", old);
    cluster.sendText("one", "rita");
    assertThat(old.take(1)).extracting(Inbox.Received::seq).containsExactly(1L);

    Inbox moved = new Inbox();
    cluster.track(cluster.client(1, "rita", "phone").listener(moved)
        .lastSeq(first.lastDelivered()).connect()).authenticated().get(10, TimeUnit.SECONDS);
    cluster.sendText("two", "rita");

    assertThat(moved.take(1)).extracting(Inbox.Received::seq, Inbox.Received::text)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(2L, "two"));
  }

  @Test
  void clientsOfAnEdgeThatShutsDownAreToldSoAndGetTheirMessagesOnTheOtherEdge()
      throws Exception {
    Inbox before = new Inbox();
    HomingConnection onFirst = cluster.connected(0, "quinn", "phone", before);

    cluster.stopEdge(0);

    assertThat(onFirst.closed().get(10, TimeUnit.SECONDS)).startsWith("SHUTTING_DOWN");
    cluster.sendText("while reconnecting", "quinn");
    Inbox after = new Inbox();
    cluster.connected(1, "quinn", "phone", after);
    assertThat(after.take(1)).extracting(Inbox.Received::seq, Inbox.Received::text)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(1L, "while reconnecting"));
  }
}
