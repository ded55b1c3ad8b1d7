package io.homing.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.homing.core.CommitPolicy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two core instances share the partitions; when one goes, the other restores its partitions'
 * queues from the changelog and carries on with the same seqs, and when it comes back it takes
 * its share again, catching up on what changed meanwhile. Users stay connected throughout and
 * see every message once, in order — with one pipeline per core, and with two (four group
 * members, a partition each, moving between pipelines of one core as between cores).
 */
class FailoverIT {
  private static final int USERS = 16;

  @Nested
  class OnePipelinePerCore extends Failover {
    @RegisterExtension final TestCluster cluster = TestCluster.perTest(1);

    @Override
    TestCluster cluster() {
      return cluster;
    }
  }

  @Nested
  class TwoPipelinesPerCore extends Failover {
    @RegisterExtension final TestCluster cluster = TestCluster.perTest(1,
        TestCluster.Options.defaults().with(new CommitPolicy(2, Duration.ofMillis(100), 100_000)));

    @Override
    TestCluster cluster() {
      return cluster;
    }
  }

  abstract static class Failover {
    abstract TestCluster cluster();

    @Test
    void partitionsMoveBetweenCoresWithTheirQueuesAndSeqs() throws Exception {
      TestCluster cluster = cluster();
      cluster.startCore(1);
      awaitOwned(0, 2);
      awaitOwned(1, 2);

      for (int i = 1; i <= 3; i++) {
        sendToAll("before " + i);
      }
      List<Inbox> inboxes = new ArrayList<>();
      for (int u = 0; u < USERS; u++) {
        Inbox inbox = new Inbox();
        inboxes.add(inbox);
        cluster.connected(0, user(u), "phone", inbox);
      }
      for (Inbox inbox : inboxes) {
        assertThat(inbox.take(3)).extracting(Inbox.Received::seq).containsExactly(1L, 2L, 3L);
      }

      cluster.stopCore(1);
      awaitOwned(0, 4);
      sendToAllAndExpect(inboxes, 4, "after core-1 left");
      assertThat(TestCluster.metric(cluster.coreMetrics(0), "homing_changelog_restored_total"))
          .as("core-0 rebuilt core-1's partitions from the changelog").isGreaterThan(0);

      cluster.startCore(1);
      awaitOwned(0, 2);
      awaitOwned(1, 2);
      sendToAllAndExpect(inboxes, 5, "after core-1 came back");
      assertThat(TestCluster.metric(cluster.coreMetrics(1), "homing_changelog_restored_total"))
          .as("core-1 caught its kept stores up with what core-0 changed").isGreaterThan(0);
      Thread.sleep(1_000);
      for (Inbox inbox : inboxes) {
        assertThat(inbox.pending()).as("nothing delivered twice").isZero();
      }
    }

    /** Sends {@code text} to every user; each must receive it next, as {@code seq}. */
    private void sendToAllAndExpect(List<Inbox> inboxes, long seq, String text) throws Exception {
      sendToAll(text);
      for (Inbox inbox : inboxes) {
        assertThat(inbox.take(1, Duration.ofSeconds(30)))
            .extracting(Inbox.Received::seq, Inbox.Received::text)
            .containsExactly(org.assertj.core.groups.Tuple.tuple(seq, text));
      }
    }

    private void sendToAll(String text) {
      List<String> users = new ArrayList<>();
      for (int u = 0; u < USERS; u++) {
        users.add(user(u));
      }
      cluster().sendText(text, users.toArray(String[]::new));
    }

    private static String user(int u) {
      return "failover-" + u;
    }

    private void awaitOwned(int core, int partitions) throws Exception {
      assertThat(cluster().awaitCoreMetric(core, "homing_partitions_owned",
          owned -> owned == partitions, Duration.ofSeconds(30)))
          .as("partitions core-%d owns", core).isEqualTo(partitions);
    }
  }
}
