package io.homing.core.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.homing.api.v1.DeliveryEvent;
import io.homing.api.v1.Message;
import io.homing.api.v1.OutboundMessage;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

class RecordDecoderTest {
  private static final String OUTBOUND = "outbound";
  private static final String EVENTS = "delivery-events";
  private static final long DEFAULT_TTL_MS = 60_000;
  /** Every key in partition 0, except those starting with "p1-". */
  private final RecordDecoder decoder = new RecordDecoder(OUTBOUND, DEFAULT_TTL_MS,
      key -> key.startsWith("p1-") ? 1 : 0);

  @Test
  void decodesAMessageForItsKeyWithTheRecordsTimeAndTheDefaultTtl() {
    byte[] value = OutboundMessage.newBuilder()
        .setMessage(Message.newBuilder().setMessageId("m1")
            .setPayload(ByteString.copyFromUtf8("hi")))
        .build().toByteArray();

    RecordDecoder.Decoded decoded = decoder.decode(record(OUTBOUND, 0, "alice", value, 1_234));

    assertThat(decoded).isInstanceOfSatisfying(RecordDecoder.Queue.class, queue -> {
      assertThat(queue.userId()).isEqualTo("alice");
      assertThat(queue.message().getMessageId()).isEqualTo("m1");
      assertThat(queue.message().getCreatedAtMs()).isEqualTo(1_234);
      assertThat(queue.message().getTtlMs()).isEqualTo(DEFAULT_TTL_MS);
    });
  }

  @Test
  void skipsAMessageWhoseSenderIsNoValidIdButKeepsAValidOne() {
    byte[] tooLong = outbound(Message.newBuilder().setSender("s".repeat(257))).toByteArray();
    byte[] control = outbound(Message.newBuilder().setSender("bill\ning")).toByteArray();
    byte[] valid = outbound(Message.newBuilder().setSender("billing").setReceipts(true))
        .toByteArray();

    assertThat(decoder.decode(record(OUTBOUND, 0, "alice", tooLong, 1))).isEqualTo(
        new RecordDecoder.Skip("sender of 257 characters (expected: empty, or 1..256 "
            + "characters, not blank, no control characters)"));
    assertThat(decoder.decode(record(OUTBOUND, 0, "alice", control, 1)))
        .isInstanceOf(RecordDecoder.Skip.class);
    assertThat(decoder.decode(record(OUTBOUND, 0, "alice", valid, 1)))
        .isInstanceOfSatisfying(RecordDecoder.Queue.class, queue -> {
          assertThat(queue.message().getSender()).isEqualTo("billing");
          assertThat(queue.message().getReceipts()).isTrue();
        });
  }

  private static OutboundMessage outbound(Message.Builder message) {
    return OutboundMessage.newBuilder().setMessage(message.setMessageId("m1")).build();
  }

  @Test
  void decodesAnEventOfItsKeysUser() {
    DeliveryEvent event = DeliveryEvent.newBuilder().setUserId("alice").setDeviceId("phone")
        .setAcked(DeliveryEvent.Acked.newBuilder().setSeq(3)).build();

    assertThat(decoder.decode(record(EVENTS, 0, "alice", event.toByteArray(), 1)))
        .isEqualTo(new RecordDecoder.Event(event));
  }

  @Test
  void skipsARecordKeyedForAnotherPartition() {
    assertThat(decoder.decode(record(OUTBOUND, 0, "p1-alice", new byte[0], 1)))
        .isEqualTo(new RecordDecoder.Skip(
            "key 'p1-alice' belongs in partition 1 (Kafka's default partitioner)"));
  }

  @Test
  void skipsAValueThatDoesNotDecodeOrIsMissing() {
    assertThat(decoder.decode(record(OUTBOUND, 0, "alice", new byte[] {-1, -1, -1}, 1)))
        .isEqualTo(new RecordDecoder.Skip("value is not an OutboundMessage"));
    assertThat(decoder.decode(record(EVENTS, 0, "alice", null, 1)))
        .isEqualTo(new RecordDecoder.Skip("value is not a DeliveryEvent"));
  }

  @Test
  void skipsAnEventOfAnotherUserThanItsKeyOrWithoutADevice() {
    DeliveryEvent event = DeliveryEvent.newBuilder().setUserId("bob").setDeviceId("phone")
        .setDisconnected(DeliveryEvent.Disconnected.getDefaultInstance()).build();

    assertThat(decoder.decode(record(EVENTS, 0, "alice", event.toByteArray(), 1)))
        .isEqualTo(new RecordDecoder.Skip("event of user 'bob' device 'phone' keyed 'alice'"));
    assertThat(decoder.decode(record(EVENTS, 0, "bob",
        event.toBuilder().clearDeviceId().build().toByteArray(), 1)))
        .isInstanceOf(RecordDecoder.Skip.class);
  }

  @Test
  void decodesAnOperatorsEventOfAUserOnlyWithoutADevice() {
    DeliveryEvent erase = DeliveryEvent.newBuilder().setUserId("alice").setNodeId("core-0")
        .setUserErased(DeliveryEvent.UserErased.getDefaultInstance()).build();
    DeliveryEvent pause = DeliveryEvent.newBuilder().setUserId("alice").setNodeId("core-0")
        .setDeliveryPaused(DeliveryEvent.DeliveryPaused.newBuilder().setPaused(true)).build();

    assertThat(decoder.decode(record(EVENTS, 0, "alice", erase.toByteArray(), 1)))
        .isEqualTo(new RecordDecoder.Event(erase));
    assertThat(decoder.decode(record(EVENTS, 0, "alice", pause.toByteArray(), 1)))
        .isEqualTo(new RecordDecoder.Event(pause));
    assertThat(decoder.decode(record(EVENTS, 0, "alice",
        erase.toBuilder().setDeviceId("phone").build().toByteArray(), 1)))
        .as("an erase names no device").isInstanceOf(RecordDecoder.Skip.class);
  }

  @Test
  void escapesControlCharactersSoThatAKeyCannotForgeLogLines() {
    // Found by PartitionRecordsFuzzTest (seed control-characters-in-key): the key went into the
    // log line unescaped, and a newline in it started a line of its own.
    RecordDecoder.Decoded decoded =
        decoder.decode(record(OUTBOUND, 0, "alice\nERROR forged", new byte[0], 1));

    assertThat(decoded).isEqualTo(new RecordDecoder.Skip("key 'alice\\u000aERROR forged' does "
        + "not name a valid recipient 'alice\\u000aERROR forged'"));
  }

  @Test
  void abbreviatesLongKeysWithoutCuttingACharacterInTwo() {
    String key = "a".repeat(63) + "😀" + "b".repeat(100);

    assertThat(RecordDecoder.abbreviate(key))
        .isEqualTo("a".repeat(63) + "😀… (" + key.length() + " chars)");
  }

  private static ConsumerRecord<String, byte[]> record(String topic, int partition, String key,
      byte[] value, long timestamp) {
    return new ConsumerRecord<>(topic, partition, 7, timestamp, TimestampType.CREATE_TIME, -1, -1,
        key, value, new RecordHeaders(), Optional.empty());
  }
}
