package io.homing.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.homing.api.v1.SendRequest;
import io.homing.api.v1.SendResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class SendApiIT {
  @RegisterExtension static final TestCluster cluster = TestCluster.perClass(1);

  @Test
  void answersWithTheMessageIdAndWhereEachRecipientsCopyWasWritten() {
    SendResponse response =
        cluster.send()
            .send(
                SendRequest.newBuilder()
                    .addUserIds("gina")
                    .addUserIds("hank")
                    .addUserIds("gina")
                    .setMessageId("order-42-shipped")
                    .setPayload(ByteString.copyFromUtf8("shipped"))
                    .build());

    assertThat(response.getMessageId()).isEqualTo("order-42-shipped");
    assertThat(response.getAcceptedList())
        .extracting(a -> a.getUserId())
        .containsExactly("gina", "hank");
    assertThat(response.getAcceptedList()).allSatisfy(a -> assertThat(a.getOffset()).isNotNegative());
  }

  @Test
  void generatesAMessageIdWhenNoneIsGiven() {
    assertThat(cluster.sendText("hi", "ivan").getMessageId()).hasSize(36);
  }

  @Test
  void refusesARequestWithoutRecipients() {
    assertThatThrownBy(
            () -> cluster.send().send(
                SendRequest.newBuilder().setPayload(ByteString.copyFromUtf8("x")).build()))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
              assertThat(e.getStatus().getDescription()).contains("user_ids: empty");
            });
  }

  @Test
  void refusesABlankRecipient() {
    assertThatThrownBy(() -> cluster.sendText("x", "judy", " "))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
  }

  @Test
  void refusesAnOversizedPayloadAndAcceptsOneAtTheLimit() {
    byte[] tooLarge = new byte[TestCluster.MAX_PAYLOAD_BYTES + 1];
    assertThatThrownBy(
            () -> cluster.send().send(
                SendRequest.newBuilder()
                    .addUserIds("kate")
                    .setPayload(ByteString.copyFrom(tooLarge))
                    .build()))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
              assertThat(e.getStatus().getDescription())
                  .isEqualTo("payload: 65537 bytes (expected: <= 65536)");
            });

    SendResponse atLimit =
        cluster.send()
            .send(
                SendRequest.newBuilder()
                    .addUserIds("kate")
                    .setPayload(ByteString.copyFrom(new byte[TestCluster.MAX_PAYLOAD_BYTES]))
                    .build());
    assertThat(atLimit.getAcceptedCount()).isEqualTo(1);
  }
}
