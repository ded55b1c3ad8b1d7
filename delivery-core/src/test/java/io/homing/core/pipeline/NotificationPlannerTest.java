package io.homing.core.pipeline;

import static io.homing.core.pipeline.PartitionMachineTest.fcm;
import static io.homing.core.pipeline.PartitionMachineTest.webhook;
import static org.assertj.core.api.Assertions.assertThat;

import io.homing.api.v1.DeliveryEvent;
import io.homing.api.v1.Message;
import io.homing.api.v1.Notification;
import io.homing.api.v1.NotificationRequest;
import io.homing.api.v1.PushTarget;
import io.homing.core.DeviceLimits;
import io.homing.core.QueueLimits;
import io.homing.core.ReceiptPolicy;
import io.homing.store.OfflineStore;
import io.homing.store.PartitionState;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NotificationPlannerTest {
  @TempDir Path dir;
  private PartitionState state;
  private final PartitionMachine machine =
      new PartitionMachine(60_000, QueueLimits.defaults(), DeviceLimits.defaults());
  private final Outcome out = new Outcome();

  @BeforeEach
  void open() {
    state = new PartitionState(OfflineStore.open(dir));
  }

  @AfterEach
  void close() {
    state.close();
  }

  @Test
  void oneRequestPerDeviceWithATargetCoveringWhatWaitsForIt() {
    connect("phone", 1_000);
    connect("laptop", 1_000);
    setTarget("phone", fcm("phone-token"));
    setTarget("laptop", webhook("http://127.0.0.1/hook"));
    send(Message.newBuilder().setMessageId("m1").setReceipts(true).setSender("shop").build());
    send(Message.newBuilder().setMessageId("m2").build());
    send(Message.newBuilder().setMessageId("m3").setReceipts(true)
        .setNotification(Notification.newBuilder().setTitle("Order shipped")).build());
    ack("laptop", 2);

    List<NotificationRequest> requests =
        new NotificationPlanner(new ReceiptPolicy(ReceiptPolicy.Key.SENDER, List.of()))
            .plan(state, "alice", 9_000);

    assertThat(requests).extracting(NotificationRequest::getDeviceId)
        .containsExactly("laptop", "phone");
    NotificationRequest laptop = requests.get(0);
    assertThat(laptop.getTarget()).isEqualTo(webhook("http://127.0.0.1/hook"));
    assertThat(laptop.getWaiting()).isEqualTo(1);
    assertThat(laptop.getMessageId()).isEqualTo("m3");
    assertThat(laptop.getSeq()).isEqualTo(3);
    assertThat(laptop.getNotification().getTitle()).isEqualTo("Order shipped");
    assertThat(laptop.getCreatedAtMs()).isEqualTo(9_000);
    assertThat(laptop.getTargetSetAtMs()).isEqualTo(1_500);
    assertThat(laptop.getReceiptsList()).extracting(NotificationRequest.Receipted::getMessageId)
        .containsExactly("m3");
    NotificationRequest phone = requests.get(1);
    assertThat(phone.getWaiting()).isEqualTo(3);
    assertThat(phone.getReceiptsList()).extracting(r -> r.getMessageId() + "#" + r.getSeq()
        + " key " + r.getKey()).containsExactly("m1#1 key shop", "m3#3 key m3");
  }

  @Test
  void noRequestWhenNothingWaitsOrEveryWaitingMessageAsksForNone() {
    connect("phone", 1_000);
    connect("laptop", 1_000);
    setTarget("phone", fcm("phone-token"));
    setTarget("laptop", fcm("laptop-token"));
    send(Message.newBuilder().setMessageId("m1").build());
    ack("phone", 1);
    send(Message.newBuilder().setMessageId("quiet")
        .setNotification(Notification.newBuilder().setMode(Notification.Mode.NONE)).build());
    ack("laptop", 1);

    assertThat(new NotificationPlanner(ReceiptPolicy.defaults()).plan(state, "alice", 9_000))
        .as("phone: only a message asking for none; laptop: the same").isEmpty();
    assertThat(new NotificationPlanner(ReceiptPolicy.defaults()).plan(state, "bob", 9_000))
        .as("a user without targets").isEmpty();
  }

  private void send(Message message) {
    machine.message(state, "alice", message, 2_000, out);
  }

  private void connect(String device, long atMs) {
    machine.event(state, DeliveryEvent.newBuilder().setUserId("alice").setDeviceId(device)
        .setNodeId("edge").setConnectionId("c-" + device)
        .setConnected(DeliveryEvent.Connected.getDefaultInstance()).build(), atMs, out);
  }

  private void ack(String device, long seq) {
    machine.event(state, DeliveryEvent.newBuilder().setUserId("alice").setDeviceId(device)
        .setNodeId("edge").setConnectionId("c-" + device)
        .setAcked(DeliveryEvent.Acked.newBuilder().setSeq(seq)).build(), 3_000, out);
  }

  private void setTarget(String device, PushTarget target) {
    machine.event(state, DeliveryEvent.newBuilder().setUserId("alice").setDeviceId(device)
        .setNodeId("edge").setConnectionId("c-" + device)
        .setPushTargetChanged(DeliveryEvent.PushTargetChanged.newBuilder().setTarget(target))
        .build(), 1_500, out);
  }
}
