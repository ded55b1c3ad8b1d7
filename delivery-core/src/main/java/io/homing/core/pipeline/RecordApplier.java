package io.homing.core.pipeline;

import io.homing.api.Topics;
import io.homing.core.DeviceLimits;
import io.homing.core.QueueLimits;
import io.homing.core.state.PartitionStores;
import io.homing.store.PartitionState;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Feeds a poll batch of {@code outbound} and {@code delivery-events} records to the
 * {@link PartitionMachine}, each against its partition's state, and counts what the rules
 * decided. A record at or below its partition's applied offset was applied before (by this
 * instance before a restart, or by the partition's previous owner) and is skipped. A record that
 * cannot be applied ({@link RecordDecoder}: undecodable, keyed by another user than it names, in
 * another partition than its key's) is logged, counted and skipped: retrying it could never
 * succeed, and skipping depends on the record alone, so a replay skips it too.
 *
 * <p>It also remembers, per partition, the offsets applied since the last commit took them
 * ({@link #takeOffsets}): what the next changelog transaction commits for the consumer group.
 * Pipeline thread only.
 */
final class RecordApplier {
  private static final Logger log = LoggerFactory.getLogger(RecordApplier.class);

  /** How often a sweep of old message ids starts from the oldest again, not where it stopped. */
  static final long FULL_ID_SWEEP_EVERY_MS = 600_000;

  private final PartitionStores stores;
  private final RecordDecoder decoder;
  private final PartitionMachine machine;
  private final Map<TopicPartition, Long> applied = new HashMap<>();
  private final Map<TopicPartition, OffsetAndMetadata> uncommitted = new HashMap<>();
  /** Per partition, the record time through which old message ids are forgotten. */
  private final Map<Integer, Long> idsForgottenThroughMs = new HashMap<>();
  private long lastFullIdSweepMs;
  private final Counter accepted;
  private final Counter duplicates;
  private final Counter rejectedFull;
  private final Counter droppedFull;
  private final Counter expired;
  private final Counter devicesForgotten;
  private final Counter pushTargetsInvalidated;
  private final MeterRegistry meters;

  RecordApplier(PartitionStores stores, Topics topics, Duration defaultTtl, Duration dedupWindow,
      QueueLimits limits, DeviceLimits devices, MeterRegistry meters) {
    this.stores = stores;
    this.machine = new PartitionMachine(dedupWindow.toMillis(), limits, devices);
    this.decoder = new RecordDecoder(topics.outbound(), defaultTtl.toMillis(), stores::partitionOf);
    this.meters = meters;
    this.devicesForgotten = Counter.builder("homing.devices.forgotten")
        .description("Devices that stopped holding messages back: away too long, or over the cap")
        .register(meters);
    this.pushTargetsInvalidated = Counter.builder("homing.push.targets.invalidated")
        .description("Push targets the notifier reported invalid (unregistered, gone)")
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
        partition, tp -> state(tp.partition()).appliedOffset(tp.topic(), tp.partition()));
  }

  /** Forgets what it knows of a partition this instance no longer owns. */
  void forget(TopicPartition partition) {
    applied.remove(partition);
    uncommitted.remove(partition);
    idsForgottenThroughMs.remove(partition.partition());
  }

  /**
   * The consumer offsets to commit for what was applied since the last call: the next offset of
   * each partition that moved on.
   */
  Map<TopicPartition, OffsetAndMetadata> takeOffsets() {
    Map<TopicPartition, OffsetAndMetadata> offsets = Map.copyOf(uncommitted);
    uncommitted.clear();
    return offsets;
  }

  /** Applies the records to their partitions' states; returns what to deliver. */
  Outcome apply(ConsumerRecords<String, byte[]> records) {
    Outcome out = new Outcome();
    for (TopicPartition partition : records.partitions()) {
      long appliedOffset = appliedOffset(partition);
      PartitionState state = state(partition.partition());
      long last = appliedOffset;
      for (ConsumerRecord<String, byte[]> record : records.records(partition)) {
        if (record.offset() <= appliedOffset) {
          continue;
        }
        RecordDecoder.Decoded decoded = decoder.decode(record);
        if (decoded instanceof RecordDecoder.Queue queue) {
          machine.message(state, queue.userId(), queue.message(), record.timestamp(), out);
        } else if (decoded instanceof RecordDecoder.Event event) {
          machine.event(state, event.event(), record.timestamp(), out);
        } else {
          skip(record, ((RecordDecoder.Skip) decoded).reason());
        }
        last = record.offset();
      }
      if (last > appliedOffset) {
        state.appliedOffset(partition.topic(), partition.partition(), last);
        applied.put(partition, last);
        uncommitted.put(partition, new OffsetAndMetadata(last + 1));
      }
    }
    count(out);
    return out;
  }

  /**
   * Deletes messages whose TTL ended and forgets message ids older than the dedup window, in every
   * owned partition; returns what it removed. Each id sweep continues where the last stopped; every
   * ten minutes one starts from the oldest, for ids remembered with older times.
   */
  Outcome expire(long nowMs) {
    boolean fromOldest = nowMs - lastFullIdSweepMs >= FULL_ID_SWEEP_EVERY_MS;
    if (fromOldest) {
      lastFullIdSweepMs = nowMs;
    }
    Outcome out = new Outcome();
    stores.owned().forEach((partition, state) -> {
      long from = fromOldest ? 0 : idsForgottenThroughMs.getOrDefault(partition, 0L);
      idsForgottenThroughMs.put(partition, machine.expire(state, nowMs, from, out));
    });
    count(out);
    return out;
  }

  private PartitionState state(int partition) {
    PartitionState state = stores.get(partition);
    if (state == null) {
      throw new IllegalStateException("partition " + partition + " is not open here");
    }
    return state;
  }

  private void count(Outcome out) {
    accepted.increment(out.accepted);
    duplicates.increment(out.duplicates);
    rejectedFull.increment(out.rejected);
    droppedFull.increment(out.dropped);
    expired.increment(out.expired);
    devicesForgotten.increment(out.devicesForgotten);
    pushTargetsInvalidated.increment(out.pushTargetsInvalidated);
  }

  private void skip(ConsumerRecord<String, byte[]> record, String why) {
    meters.counter("homing.records.skipped", "topic", record.topic()).increment();
    log.warn("skipping {}-{}@{}: {}", record.topic(), record.partition(), record.offset(), why);
  }
}
