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
import io.homing.core.state.Changelog;
import io.homing.core.state.PartitionStores;
import io.homing.store.OfflineStore;
import io.homing.store.StoreBatch;
import io.homing.store.v1.UserState;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies a poll batch of {@code outbound} and {@code delivery-events} records to the offline
 * stores of their partitions — one batch per partition, with the partition's applied offsets —
 * written to the {@link Changelog} in one transaction with the consumer offsets, then to the local
 * stores. A record at or below its partition's applied offset was applied before a restart and is
 * skipped, so seqs are assigned exactly once. A message whose id was accepted for the same user
 * within the dedup window is dropped; the window is measured in record timestamps, so a replay
 * decides the same way. A record that cannot be applied (undecodable, keyed by another user than
 * it names, or in another partition than its key's) is logged and skipped: retrying it could
 * never succeed.
 */
final class RecordApplier {
  private static final Logger log = LoggerFactory.getLogger(RecordApplier.class);

  /** Bounds the work of forgetting old message ids per sweep; the rest goes in later sweeps. */
  static final int MAX_IDS_EXPIRED_PER_SWEEP = 10_000;
  /** How often a sweep of old message ids starts from the oldest again, not where it stopped. */
  static final long FULL_ID_SWEEP_EVERY_MS = 600_000;
  /** Bounds the work of one expiry sweep; the rest goes in the next. */
  static final int MAX_EXPIRED_PER_SWEEP = 10_000;

  private final PartitionStores stores;
  private final Changelog changelog;
  private final String outboundTopic;
  private final long defaultTtlMs;
  private final long dedupWindowMs;
  private final Map<TopicPartition, Long> applied = new HashMap<>();
  /** The newest record timestamp applied: ids are judged, and expired, in record time. */
  private long newestRecordMs;
  /**
   * Per partition, where the last sweep of old message ids stopped; and when one last started
   * from the oldest.
   */
  private final Map<Integer, Long> idSweptThroughMs = new HashMap<>();
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

  RecordApplier(PartitionStores stores, Changelog changelog, Topics topics, Duration defaultTtl,
      Duration dedupWindow, QueueLimits limits, DeviceLimits devices, MeterRegistry meters) {
    this.stores = stores;
    this.changelog = changelog;
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

  /**
   * The offset of the last record applied on the partition, -1 when none. The partition's store
   * must be open.
   */
  long appliedOffset(TopicPartition partition) {
    return applied.computeIfAbsent(
        partition, tp -> store(tp.partition()).appliedOffset(tp.topic(), tp.partition()));
  }

  /** Forgets cached offsets of partitions this instance no longer owns. */
  void forget(TopicPartition partition) {
    applied.remove(partition);
    idSweptThroughMs.remove(partition.partition());
  }

  /**
   * Applies the records; once this returns, the changelog and the local stores hold their
   * changes. {@code group} is the consumer's group metadata, which fences an instance that no
   * longer owns the partitions.
   */
  AppliedBatch apply(ConsumerRecords<String, byte[]> records, ConsumerGroupMetadata group) {
    AppliedBatch result = new AppliedBatch();
    Map<TopicPartition, Long> offsets = new HashMap<>();
    Map<Integer, StoreBatch> batches = new HashMap<>();
    try {
      for (TopicPartition partition : records.partitions()) {
        long appliedOffset = appliedOffset(partition);
        StoreBatch batch = batches.computeIfAbsent(partition.partition(),
            p -> store(p).newBatch());
        for (ConsumerRecord<String, byte[]> record : records.records(partition)) {
          if (record.offset() <= appliedOffset) {
            continue;
          }
          if (record.key() != null && stores.partitionOf(record.key()) != record.partition()) {
            skip(record, "key '" + abbreviate(record.key()) + "' belongs in partition "
                + stores.partitionOf(record.key()) + " (Kafka's default partitioner)");
          } else if (outboundTopic.equals(record.topic())) {
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
      offsets.forEach((tp, offset) ->
          batches.get(tp.partition()).appliedOffset(tp.topic(), tp.partition(), offset));
      Map<TopicPartition, OffsetAndMetadata> next = new HashMap<>();
      offsets.forEach((tp, offset) -> next.put(tp, new OffsetAndMetadata(offset + 1)));
      changelog.write(batches, next, group);
      batches.values().forEach(StoreBatch::commit);
    } finally {
      batches.values().forEach(StoreBatch::close);
    }
    applied.putAll(offsets);
    return result;
  }

  private OfflineStore store(int partition) {
    OfflineStore store = stores.get(partition);
    if (store == null) {
      throw new IllegalStateException("partition " + partition + " is not open here");
    }
    return store;
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
   * Deletes messages whose TTL ended, and forgets message ids older than the dedup window, in
   * every owned store, in one changelog transaction of its own; returns how many messages
   * expired. Ids are forgotten in record time (the newest record applied, minus the window), so a
   * replay judges duplicates as the first run did; each sweep continues where the last stopped,
   * and every ten minutes one starts from the oldest, for ids that arrived with older timestamps.
   */
  int expire(long nowMs, ConsumerGroupMetadata group) {
    boolean sweepIds = dedupWindowMs > 0 && newestRecordMs > 0;
    long idsBefore = newestRecordMs - dedupWindowMs;
    boolean fullIdSweep = sweepIds && nowMs - lastFullIdSweepMs >= FULL_ID_SWEEP_EVERY_MS;
    if (fullIdSweep) {
      lastFullIdSweepMs = nowMs;
    }
    Map<Integer, StoreBatch> batches = new HashMap<>();
    Map<Integer, Long> sweptThrough = new HashMap<>();
    int total = 0;
    try {
      for (Map.Entry<Integer, OfflineStore> owned : stores.owned().entrySet()) {
        int partition = owned.getKey();
        StoreBatch batch = owned.getValue().newBatch();
        batches.put(partition, batch);
        Map<String, Integer> expired = batch.expireMessages(nowMs, MAX_EXPIRED_PER_SWEEP);
        total += expired.values().stream().mapToInt(Integer::intValue).sum();
        if (sweepIds) {
          long from = fullIdSweep ? 0 : idSweptThroughMs.getOrDefault(partition, 0L);
          if (batch.expireIds(from, idsBefore, MAX_IDS_EXPIRED_PER_SWEEP)
              < MAX_IDS_EXPIRED_PER_SWEEP) {
            sweptThrough.put(partition, Math.max(from, idsBefore));
          }
        }
      }
      Map<Integer, StoreBatch> changed = new HashMap<>(batches);
      changed.values().removeIf(batch -> batch.seal().isEmpty());
      if (!changed.isEmpty()) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        applied.forEach((tp, offset) -> {
          if (offset >= 0 && changed.containsKey(tp.partition())) {
            offsets.put(tp, new OffsetAndMetadata(offset + 1));
          }
        });
        changelog.write(changed, offsets, group);
        changed.values().forEach(StoreBatch::commit);
      }
    } finally {
      batches.values().forEach(StoreBatch::close);
    }
    idSweptThroughMs.putAll(sweptThrough);
    this.expired.increment(total);
    return total;
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
