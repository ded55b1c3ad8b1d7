package io.homing.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.homing.api.v1.Error;
import io.homing.client.HomingConnection;
import io.homing.core.DeviceLimits;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Every device of a user gets every message, on its own cursor; forgotten devices stop holding. */
class MultiDeviceIT {
  @Nested
  class EveryDevice {
    @RegisterExtension final TestCluster cluster = TestCluster.perTest(2);

    @Test
    void eachDeviceGetsEveryMessageAndAMessageStaysUntilEveryDeviceAckedIt() throws Exception {
      Inbox phone = new Inbox();
      Inbox laptop = new Inbox();
      cluster.connected(0, "kim", "phone", phone);
      HomingConnection onLaptop = cluster.track(
          cluster.client(1, "kim", "laptop").listener(laptop).autoAck(false).connect());
      onLaptop.authenticated().get(10, TimeUnit.SECONDS);

      cluster.sendText("one", "kim");
      cluster.sendText("two", "kim");
      assertThat(phone.take(2)).extracting(Inbox.Received::seq).containsExactly(1L, 2L);
      assertThat(laptop.take(2)).extracting(Inbox.Received::seq).containsExactly(1L, 2L);
      onLaptop.close(); // the phone acked both, the laptop nothing

      Inbox laptopAgain = new Inbox();
      cluster.connected(0, "kim", "laptop", laptopAgain);
      assertThat(laptopAgain.take(2)).extracting(Inbox.Received::text)
          .containsExactly("one", "two");
    }

    @Test
    void devicesOfOneUserOnOneEdgeComeGoAndAreReplacedEachOnItsOwn() throws Exception {
      Inbox firstPhone = new Inbox();
      Inbox tablet = new Inbox();
      Inbox laptop = new Inbox();
      HomingConnection onFirstPhone = cluster.connected(0, "noa", "phone", firstPhone);
      HomingConnection onTablet = cluster.connected(0, "noa", "tablet", tablet);
      cluster.connected(0, "noa", "laptop", laptop);
      awaitEdgeConnections(3);

      onTablet.close(); // the middle one of three
      onTablet.closed().get(10, TimeUnit.SECONDS);
      Inbox phone = new Inbox();
      cluster.connected(0, "noa", "phone", phone); // replaces the first phone, and only it
      assertThat(onFirstPhone.closed().get(10, TimeUnit.SECONDS)).isNotNull();
      assertThat(onFirstPhone.lastError().getCode()).isEqualTo(Error.Code.REPLACED);
      awaitEdgeConnections(2);
      assertThat(cluster.holds(0, "noa", "tablet")).isFalse();
      assertThat(cluster.holds(0, "noa", "laptop")).isTrue();

      cluster.sendText("one", "noa");
      assertThat(phone.take(1)).extracting(Inbox.Received::text).containsExactly("one");
      assertThat(laptop.take(1)).extracting(Inbox.Received::text).containsExactly("one");
      Inbox tabletAgain = new Inbox();
      cluster.connected(0, "noa", "tablet", tabletAgain);
      assertThat(tabletAgain.take(1)).extracting(Inbox.Received::text).containsExactly("one");
      awaitEdgeConnections(3);
    }

    private void awaitEdgeConnections(double count) {
      await().atMost(Duration.ofSeconds(5)).until(
          () -> TestCluster.metric(cluster.edgeMetrics(0), "homing_edge_connections") == count);
    }
  }

  @Nested
  class BeyondTheCap {
    @RegisterExtension final TestCluster cluster = TestCluster.perTest(1,
        TestCluster.Options.defaults().with(new DeviceLimits(2, Duration.ofDays(30))));

    @Test
    void theLeastRecentlySeenDeviceIsForgottenAndStopsHoldingMessages() throws Exception {
      connectAndLeave("lena", "old-phone");
      connectAndLeave("lena", "tablet");
      cluster.sendText("while away", "lena");

      Inbox laptop = new Inbox();
      cluster.connected(0, "lena", "laptop", laptop); // a third device: old-phone is forgotten
      assertThat(laptop.take(1)).extracting(Inbox.Received::text).containsExactly("while away");
      Inbox tablet = new Inbox();
      cluster.connected(0, "lena", "tablet", tablet);
      assertThat(tablet.take(1)).extracting(Inbox.Received::text).containsExactly("while away");
      awaitForgotten(1);

      // acked by every device it still knows: gone, so the forgotten one does not get it back
      cluster.sendText("later", "lena");
      assertThat(laptop.take(1)).extracting(Inbox.Received::text).containsExactly("later");
      assertThat(tablet.take(1)).extracting(Inbox.Received::text).containsExactly("later");
      Inbox oldPhone = new Inbox();
      HomingConnection back = cluster.connected(0, "lena", "old-phone", oldPhone);
      // AuthOk tells the returning device where the stream stands: two seqs given so far
      assertThat(back.authenticated().get().getLastSeq()).isEqualTo(2);
      cluster.sendText("newest", "lena");
      // "later" may still be queued if its acks are in flight; "while away" is long gone
      List<Inbox.Received> received = new ArrayList<>(oldPhone.take(1));
      if (received.get(0).seq() == 2) {
        received.addAll(oldPhone.take(1));
      }
      assertThat(received).extracting(Inbox.Received::text).doesNotContain("while away")
          .last().isEqualTo("newest");
    }

    private void connectAndLeave(String user, String device) throws Exception {
      HomingConnection c = cluster.connected(0, user, device, new Inbox());
      c.close();
      c.closed().get(10, TimeUnit.SECONDS);
    }

    private void awaitForgotten(double count) throws Exception {
      assertThat(cluster.awaitCoreMetric("homing_devices_forgotten_total", count))
          .isEqualTo(count);
    }
  }
}
