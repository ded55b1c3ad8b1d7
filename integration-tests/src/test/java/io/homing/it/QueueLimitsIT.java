package io.homing.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.ByteString;
import com.google.protobuf.util.Durations;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.homing.api.v1.SendRequest;
import io.homing.core.QueueLimits;
import java.time.Duration;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A user's queue is capped and messages expire; whatever is removed or refused is counted. */
class QueueLimitsIT {
  @Nested
  class WhenFullNewMessagesAreRefused {
    @RegisterExtension final TestCluster cluster =
        TestCluster.perTest(1, TestCluster.Options.defaults()
        .with(new QueueLimits(3, 1 << 20, QueueLimits.WhenFull.REJECT)));

    @Test
    void coreRefusesWhatDoesNotFitAndTheSendApiThenAnswersResourceExhausted() throws Exception {
      for (int i = 1; i <= 4; i++) {
        cluster.sendText("m" + i, "hana");
      }
      awaitMetric(cluster, "homing_messages_rejected_total{reason=\"queue_full\"}", 1);

      StatusRuntimeException refused = awaitRefusal(cluster, "hana");
      assertThat(refused.getStatus().getDescription()).contains("hana");

      Inbox inbox = new Inbox();
      cluster.connected(0, "hana", "phone", inbox);
      assertThat(inbox.take(3)).extracting(Inbox.Received::text)
          .containsExactly("m1", "m2", "m3");

      // Every refused message took its seq (seqs depend on outbound alone): m4, and any probe
      // that reached core before the Send API saw the queue marked full.
      awaitAccepted(cluster, "hana", "m5");
      Inbox.Received m5 = inbox.take(1).get(0);
      double refusedByCore = TestCluster.metric(cluster.coreMetrics(),
          "homing_messages_rejected_total{reason=\"queue_full\"}");
      assertThat(m5.text()).isEqualTo("m5");
      assertThat(m5.seq()).isEqualTo(3 + (long) refusedByCore + 1);
    }

    /** Sends until the Send API no longer refuses (the queue emptied and the mark expired). */
    private void awaitAccepted(TestCluster cluster, String user, String text) throws Exception {
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (true) {
        try {
          cluster.sendText(text, user);
          return;
        } catch (StatusRuntimeException e) {
          if (e.getStatus().getCode() != Status.Code.RESOURCE_EXHAUSTED
              || System.nanoTime() > deadline) {
            throw e;
          }
          Thread.sleep(200);
        }
      }
    }
  }

  @Nested
  class WhenFullTheOldestAreDropped {
    @RegisterExtension final TestCluster cluster =
        TestCluster.perTest(1, TestCluster.Options.defaults()
        .with(new QueueLimits(3, 1 << 20, QueueLimits.WhenFull.DROP_OLDEST)));

    @Test
    void theNewestMessagesStayAndTheDroppedAreCounted() throws Exception {
      for (int i = 1; i <= 5; i++) {
        cluster.sendText("m" + i, "ivan");
      }
      awaitMetric(cluster, "homing_messages_removed_total{reason=\"queue_full\"}", 2);

      Inbox inbox = new Inbox();
      cluster.connected(0, "ivan", "phone", inbox);
      assertThat(inbox.take(3)).extracting(Inbox.Received::seq, Inbox.Received::text)
          .containsExactly(
              org.assertj.core.groups.Tuple.tuple(3L, "m3"),
              org.assertj.core.groups.Tuple.tuple(4L, "m4"),
              org.assertj.core.groups.Tuple.tuple(5L, "m5"));
    }
  }

  @Nested
  class Expiry {
    @RegisterExtension final TestCluster cluster = TestCluster.perTest(1);

    @Test
    void aMessageWhoseTtlEndedIsNeverDeliveredAndIsCounted() throws Exception {
      cluster.send().send(SendRequest.newBuilder()
          .addUserIds("jana")
          .setPayload(ByteString.copyFromUtf8("stale soon"))
          .setTtl(Durations.fromMillis(500))
          .build());
      awaitMetric(cluster, "homing_messages_removed_total{reason=\"ttl\"}", 1);
      cluster.sendText("fresh", "jana");

      Inbox inbox = new Inbox();
      cluster.connected(0, "jana", "phone", inbox);
      assertThat(inbox.take(1)).extracting(Inbox.Received::seq, Inbox.Received::text)
          .containsExactly(org.assertj.core.groups.Tuple.tuple(2L, "fresh"));
    }
  }

  private static void awaitMetric(TestCluster cluster, String series, double atLeast)
      throws Exception {
    assertThat(cluster.awaitCoreMetric(series, atLeast)).as(series)
        .isGreaterThanOrEqualTo(atLeast);
  }

  private static StatusRuntimeException awaitRefusal(TestCluster cluster, String user)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (true) {
      StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
          () -> cluster.sendText("refused?", user));
      if (e != null || System.nanoTime() > deadline) {
        assertThat(e).as("a RESOURCE_EXHAUSTED answer").isNotNull();
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        return e;
      }
      Thread.sleep(200);
    }
  }
}
