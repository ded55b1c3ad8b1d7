package io.homing.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.homing.api.v1.DeliveryReceipt;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReceiptPolicyTest {
  private static final DeliveryReceipt FROM_BILLING =
      DeliveryReceipt.newBuilder().setMessageId("m-1").setSender("billing").build();
  private static final DeliveryReceipt FROM_NOBODY =
      DeliveryReceipt.newBuilder().setMessageId("m-2").build();

  @Test
  void keysByMessageIdOrBySenderFallingBackToTheId() {
    ReceiptPolicy byId = ReceiptPolicy.defaults();
    ReceiptPolicy bySender = new ReceiptPolicy(ReceiptPolicy.Key.SENDER, List.of());

    assertThat(key(byId, FROM_BILLING)).isEqualTo("m-1");
    assertThat(key(bySender, FROM_BILLING)).isEqualTo("billing");
    assertThat(key(bySender, FROM_NOBODY)).isEqualTo("m-2");
  }

  @Test
  void coversTheNamedSendersOrEveryoneWithAStar() {
    ReceiptPolicy named = new ReceiptPolicy(ReceiptPolicy.Key.MESSAGE_ID, List.of("billing"));
    ReceiptPolicy everyone = new ReceiptPolicy(ReceiptPolicy.Key.MESSAGE_ID, List.of("*"));

    assertThat(named.coversSender("billing")).isTrue();
    assertThat(named.coversSender("shop")).isFalse();
    assertThat(ReceiptPolicy.defaults().coversSender("billing")).isFalse();
    assertThat(everyone.coversSender("shop")).isTrue();
  }

  private static String key(ReceiptPolicy policy, DeliveryReceipt receipt) {
    return new String(policy.keyOf(receipt), StandardCharsets.UTF_8);
  }
}
