package io.homing.core.pipeline;

import com.google.protobuf.InvalidProtocolBufferException;
import io.homing.api.Limits;
import io.homing.api.Topics;
import io.homing.api.v1.DeliveryEvent;
import io.homing.api.v1.Message;
import io.homing.api.v1.OutboundMessage;
import io.homing.core.DeviceLimits;
import io.homing.core.QueueLimits;
import io.homing.core.pipeline.AppliedBatch.Kind;
import io.homing.store.OfflineStore;
import io.homing.store.StoreBatch;
import io.homing.store.v1.UserState;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
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
 * exactly once. A message whose id was accepted for the same user within the dedup window is
 * dropped; the window is measured in record timestamps, so a replay decides the same way. A record that cannot be applied (undecodable, or keyed by another user than it
 * names) is logged and skipped: retrying it could never succeed.
 */
final class RecordApplier {
  private static final Logger log = LoggerFactory.getLogger(RecordApplier.class);

  /** Bounds the work of forgetting old message ids per sweep; the rest goes in later sweeps. */
  static final int MAX_IDS_EXPIRED_PER_SWEEP = 10_000;
  /** How often a sweep of old message ids starts from the oldest again, not where it stopped. */
  static final long FULL_ID_SWEEP_EVERY_MS = 600_000;
  /** Bounds the work of one expiry sweep; the rest goes in the next. */
  static final int MAX_EXPIRED_PER_SWEEP = 10_000;

  private final OfflineStore store;
  private final String outboundTopic;
  private final long defaultTtlMs;
  private final long dedupWindowMs;
  private final Map<TopicPartition, Long> applied = new HashMap<>();
  /** The newest record timestamp applied: ids are judged, and expired, in record time. */
  private long newestRecordMs;
  /** Where the last sweep of old message ids stopped, and when one last started from the oldest. */
  private long idSweptThroughMs;
  private long lastFullIdSweepMs;
  private final Counter accepted;
  private final Counter duplicates;
  private final Counter rejectedFull;
  private final Counter droppedFull;
  private final Counter expired;
  private final Counter devicesForgotten;
  private final QueueLimits limits;
  private final DeviceLimits devices;
  private final MeterRegistry meters;

  RecordApplier(OfflineStore store, Topics topics, Duration defaultTtl, Duration dedupWindow,
      QueueLimits limits, DeviceLimits devices, MeterRegistry meters) {
    this.store = store;
    this.outboundTopic = topics.outbound();
    this.defaultTtlMs = defaultTtl.toMillis();
    this.dedupWindowMs = dedupWindow.toMillis();
    this.meters = meters;
    this.limits = limits;
    this.devices = devices;
    this.devicesForgotten = Counter.builder("homing.devices.forgotten")
        .description("Devices that stopped holding messages back: away too long, or over the cap")
        .register(meters);
    this.rejectedFull = Counter.builder("homing.messages.rejected").tag("reason", "queue_full")
        .description("Messages refused because their user's queue was full").register(meters);
    this.droppedFull = Counter.builder("homing.messages.removed").tag("reason", "queue_full")
        .description("Queued messages removed before every device acked them")
        .register(meters);
    this.expired = Counter.builder("homing.messages.removed").tag("reason", "ttl")
        .description("Queued messages removed before every device acked them")
        .register(meters);
    this.accepted = Counter.builder("homing.messages.accepted")
        .description("Messages queued for their user under a new seq").register(meters);
    this.duplicates = Counter.builder("homing.messages.duplicates")
        .description("Messages dropped: their id was accepted for the user within the window")
        .register(meters);
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
          newestRecordMs = Math.max(newestRecordMs, record.timestamp());
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
    if (!Limits.isValidId(user) || !user.equals(record.key())) {
      skip(record, "key '" + abbreviate(record.key()) + "' does not name a valid recipient '"
          + abbreviate(user) + "'");
      return;
    }
    if (outbound.getMessage().getMessageId().length() > Limits.MAX_ID_LENGTH) {
      skip(record, "message id of " + outbound.getMessage().getMessageId().length()
          + " characters (expected: <= " + Limits.MAX_ID_LENGTH + ")");
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
    String id = built.getMessageId();
    boolean dedup = dedupWindowMs > 0 && !id.isEmpty();
    if (dedup && batch.seenId(user, id, record.timestamp() - dedupWindowMs)) {
      duplicates.increment();
      log.debug("dropping message {} for {}: accepted within the dedup window", id, user);
      return;
    }
    if (!makeRoom(batch, user, built.getSerializedSize(), result)) {
      return;
    }
    if (dedup) {
      batch.rememberId(user, id, record.timestamp());
    }
    result.queued(user, batch.append(user, built), built);
    accepted.increment();
  }

  /**
   * Whether a message of {@code size} bytes fits the user's queue, after dropping the oldest
   * messages when that is the policy. A refused message is counted and its user marked full.
   */
  private boolean makeRoom(StoreBatch batch, String user, int size, AppliedBatch result) {
    UserState state = batch.userState(user);
    if (state.getQueuedCount() + 1 <= limits.maxMessages()
        && state.getQueuedBytes() + size <= limits.maxBytes()) {
      return true;
    }
    if (limits.whenFull() == QueueLimits.WhenFull.DROP_OLDEST && size <= limits.maxBytes()) {
      int dropped = batch.dropOldest(user, 1, size, limits.maxMessages(), limits.maxBytes());
      droppedFull.increment(dropped);
      log.debug("queue of {} full: dropped its {} oldest messages", user, dropped);
      return true;
    }
    rejectedFull.increment();
    result.full(user);
    log.debug("queue of {} full ({} messages, {} bytes): refusing a message", user,
        state.getQueuedCount(), state.getQueuedBytes());
    return false;
  }

  private void retainDevices(StoreBatch batch, String user, long nowMs) {
    List<String> forgotten = batch.retainDevices(user, nowMs - devices.retention().toMillis(),
        devices.maxDevices(), nowMs);
    if (!forgotten.isEmpty()) {
      devicesForgotten.increment(forgotten.size());
      log.debug("forgot devices {} of {}", forgotten, user);
    }
  }

  /**
   * Deletes messages whose TTL ended, and forgets message ids older than the dedup window, in a
   * batch of its own; returns how many messages expired. Ids are forgotten in record time (the
   * newest record applied, minus the window), so a replay judges duplicates as the first run did;
   * each sweep continues where the last stopped, and every ten minutes one starts from the
   * oldest, for ids that arrived with older timestamps.
   */
  int expire(long nowMs) {
    try (StoreBatch batch = store.newBatch()) {
      Map<String, Integer> expired = batch.expireMessages(nowMs, MAX_EXPIRED_PER_SWEEP);
      if (dedupWindowMs > 0 && newestRecordMs > 0) {
        long before = newestRecordMs - dedupWindowMs;
        boolean full = nowMs - lastFullIdSweepMs >= FULL_ID_SWEEP_EVERY_MS;
        if (full) {
          lastFullIdSweepMs = nowMs;
        }
        int removed = batch.expireIds(full ? 0 : idSweptThroughMs, before,
            MAX_IDS_EXPIRED_PER_SWEEP);
        if (removed < MAX_IDS_EXPIRED_PER_SWEEP) {
          idSweptThroughMs = Math.max(idSweptThroughMs, before);
        }
      }
      batch.commit();
      int total = expired.values().stream().mapToInt(Integer::intValue).sum();
      this.expired.increment(total);
      return total;
    }
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
    if (!Limits.isValidId(event.getUserId()) || !event.getUserId().equals(record.key())
        || !Limits.isValidId(event.getDeviceId())) {
      skip(record, "event of user '" + abbreviate(event.getUserId()) + "' device '"
          + abbreviate(event.getDeviceId()) + "' keyed '" + abbreviate(record.key()) + "'");
      return;
    }
    String user = event.getUserId();
    String device = event.getDeviceId();
    switch (event.getKindCase()) {
      case CONNECTED -> {
        long cursor =
            batch.ack(user, device, event.getConnected().getLastSeq(), record.timestamp());
        batch.connected(user, device, event.getConnectionId());
        retainDevices(batch, user, record.timestamp());
        result.changed(Kind.CONNECTED, user, device, event.getNodeId(), event.getConnectionId(),
            cursor);
      }
      case ACKED -> {
        long cursor = batch.ack(user, device, event.getAcked().getSeq(), record.timestamp());
        retainDevices(batch, user, record.timestamp());
        result.changed(Kind.ACKED, user, device, event.getNodeId(), event.getConnectionId(),
            cursor);
      }
      case DISCONNECTED -> {
        batch.disconnected(user, device, event.getConnectionId());
        result.changed(Kind.DISCONNECTED, user, device, event.getNodeId(),
            event.getConnectionId(), 0);
      }
      default -> skip(record, "unknown event kind");
    }
  }

  private static String abbreviate(String s) {
    return s == null || s.length() <= 64 ? s : s.substring(0, 64) + "… (" + s.length() + " chars)";
  }

  private void skip(ConsumerRecord<String, byte[]> record, String why) {
    meters.counter("homing.records.skipped", "topic", record.topic()).increment();
    log.warn("skipping {}-{}@{}: {}", record.topic(), record.partition(), record.offset(), why);
  }
}
