package io.homing.core.pipeline;

import com.google.protobuf.InvalidProtocolBufferException;
import io.homing.api.Topics;
import io.homing.api.v1.DeliveryEvent;
import io.homing.api.v1.Message;
import io.homing.api.v1.OutboundMessage;
import io.homing.store.OfflineStore;
import io.homing.store.StoreBatch;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies a poll batch of {@code outbound} and {@code delivery-events} records to the offline
 * store in one atomic write, together with each partition's applied offset. A record at or below
 * its partition's applied offset was applied before a restart and is skipped, so seqs are assigned
 * exactly once. A record that cannot be applied (undecodable, or keyed by another user than it
 * names) is logged and skipped: retrying it could never succeed.
 */
final class RecordApplier {
  private static final Logger log = LoggerFactory.getLogger(RecordApplier.class);

  private final OfflineStore store;
  private final String outboundTopic;
  private final long defaultTtlMs;
  private final Map<TopicPartition, Long> applied = new HashMap<>();

  RecordApplier(OfflineStore store, Topics topics, Duration defaultTtl) {
    this.store = store;
    this.outboundTopic = topics.outbound();
    this.defaultTtlMs = defaultTtl.toMillis();
  }

  /** The offset of the last record applied on the partition, -1 when none. */
  long appliedOffset(TopicPartition partition) {
    return applied.computeIfAbsent(
        partition, tp -> store.appliedOffset(tp.topic(), tp.partition()));
  }

  /** Forgets cached offsets of partitions this instance no longer owns. */
  void forget(TopicPartition partition) {
    applied.remove(partition);
  }

  AppliedBatch apply(ConsumerRecords<String, byte[]> records) {
    AppliedBatch result = new AppliedBatch();
    Map<TopicPartition, Long> offsets = new HashMap<>();
    try (StoreBatch batch = store.newBatch()) {
      for (TopicPartition partition : records.partitions()) {
        long appliedOffset = appliedOffset(partition);
        for (ConsumerRecord<String, byte[]> record : records.records(partition)) {
          if (record.offset() <= appliedOffset) {
            continue;
          }
          if (outboundTopic.equals(record.topic())) {
            applyOutbound(batch, record, result);
          } else {
            applyEvent(batch, record, result);
          }
          offsets.put(partition, record.offset());
        }
      }
      if (offsets.isEmpty()) {
        return result;
      }
      offsets.forEach((tp, offset) -> batch.appliedOffset(tp.topic(), tp.partition(), offset));
      batch.commit();
    }
    applied.putAll(offsets);
    return result;
  }

  private void applyOutbound(
      StoreBatch batch, ConsumerRecord<String, byte[]> record, AppliedBatch result) {
    OutboundMessage outbound;
    try {
      outbound = OutboundMessage.parseFrom(record.value());
    } catch (InvalidProtocolBufferException | NullPointerException e) {
      skip(record, "value is not an OutboundMessage");
      return;
    }
    String user = outbound.getUserId().isEmpty() ? record.key() : outbound.getUserId();
    if (user == null || user.isBlank() || !user.equals(record.key())) {
      skip(record, "key '" + record.key() + "' does not name the recipient '" + user + "'");
      return;
    }
    Message.Builder message = outbound.getMessage().toBuilder();
    if (message.getCreatedAtMs() == 0) {
      message.setCreatedAtMs(record.timestamp());
    }
    if (message.getTtlMs() <= 0) {
      message.setTtlMs(defaultTtlMs);
    }
    Message built = message.build();
    result.queued(user, batch.append(user, built), built);
  }

  private void applyEvent(
      StoreBatch batch, ConsumerRecord<String, byte[]> record, AppliedBatch result) {
    DeliveryEvent event;
    try {
      event = DeliveryEvent.parseFrom(record.value());
    } catch (InvalidProtocolBufferException | NullPointerException e) {
      skip(record, "value is not a DeliveryEvent");
      return;
    }
    if (!event.getUserId().equals(record.key()) || event.getDeviceId().isEmpty()) {
      skip(record, "event of user '" + event.getUserId() + "' device '" + event.getDeviceId()
          + "' keyed '" + record.key() + "'");
      return;
    }
    switch (event.getKindCase()) {
      case CONNECTED -> {
        long cursor =
            batch.ack(event.getUserId(), event.getDeviceId(), event.getConnected().getLastSeq());
        result.connected(
            event.getUserId(), event.getDeviceId(), event.getNodeId(), event.getConnectionId(),
            cursor);
      }
      case ACKED -> batch.ack(event.getUserId(), event.getDeviceId(), event.getAcked().getSeq());
      case DISCONNECTED ->
          result.disconnected(
              event.getUserId(), event.getDeviceId(), event.getNodeId(), event.getConnectionId());
      default -> skip(record, "unknown event kind");
    }
  }

  private static void skip(ConsumerRecord<String, byte[]> record, String why) {
    log.warn("skipping {}-{}@{}: {}", record.topic(), record.partition(), record.offset(), why);
  }
}
