package io.homing.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.homing.api.v1.DeliveryEvent;
import io.homing.api.v1.Message;
import io.homing.api.v1.OutboundMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Records a producer (or a broken edge) may write to the topics but core can never apply are
 * skipped with a log line; delivery goes on for everyone else.
 */
class BadRecordIT {
  private static final int PARTITIONS = 4;

  @RegisterExtension static final TestCluster cluster = TestCluster.perClass(1);

  @Test
  void recordsCoreCannotApplyAreSkippedAndDeliveryGoesOn() throws Exception {
    Inbox inbox = new Inbox();
    cluster.connected(0, "gina", "phone", inbox);
    String hugeId = "u".repeat(70_000);

    for (int p = 0; p < PARTITIONS; p++) {
      String outbound = cluster.topics.outbound();
      cluster.produceRaw(outbound, p, hugeId, outbound(hugeId, "m"));
      cluster.produceRaw(outbound, p, "gina", new byte[] {(byte) 0xFF, 0x01});
      cluster.produceRaw(outbound, p, "gina", outbound("someone-else", "m"));
      cluster.produceRaw(outbound, p, "gina", outbound("gina", "x".repeat(300)));
      cluster.produceRaw(cluster.topics.deliveryEvents(), p, hugeId,
          DeliveryEvent.newBuilder().setUserId(hugeId).setDeviceId("phone").setNodeId("edge-0")
              .setConnected(DeliveryEvent.Connected.getDefaultInstance()).build().toByteArray());
    }
    cluster.sendText("still here", "gina");

    assertThat(inbox.take(1)).extracting(Inbox.Received::seq, Inbox.Received::text)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(1L, "still here"));
  }

  private static byte[] outbound(String user, String messageId) {
    return OutboundMessage.newBuilder()
        .setUserId(user)
        .setMessage(Message.newBuilder().setMessageId(messageId)
            .setPayload(ByteString.copyFromUtf8("never delivered")))
        .build()
        .toByteArray();
  }
}
