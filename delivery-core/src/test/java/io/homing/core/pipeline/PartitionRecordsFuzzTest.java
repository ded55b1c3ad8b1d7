package io.homing.core.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.homing.api.Limits;
import io.homing.api.Topics;
import io.homing.api.v1.DeliveryEvent;
import io.homing.api.v1.Message;
import io.homing.core.DeviceLimits;
import io.homing.core.QueueLimits;
import io.homing.core.state.PartitionStores;
import io.homing.store.OfflineStore;
import io.homing.store.PartitionState;
import io.homing.store.QueuedMessage;
import io.homing.store.StoreChange;
import io.homing.store.v1.UserState;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.AfterAll;

/**
 * What the core reads from Kafka, {@code outbound} and {@code delivery-events} records of any
 * key, value and time, through the real {@link RecordDecoder} and {@link PartitionMachine} on a
 * real partition state (RocksDB in a temp dir, the changes pending over it, as between two
 * commits). Each record is applied or skipped with a reason, a line without control characters;
 * nothing throws; after every record the user's state holds together: its counts are what its
 * queue holds, within the caps, between its purged and its last seq, and every cursor at most
 * the last seq; a message takes the next seq or is a duplicate; an ack (a uint64) moves its
 * device's cursor to it, clamped to the last seq, never back; and what the changes would log reads
 * back from the changelog.
 *
 * <p>The first byte picks the queue's policy when full; then each record is a flags byte (topic,
 * null key, null value, wrong partition, a TTL sweep after it, the step of its time), a key
 * length byte, the key, a two-byte value length and the value. See docs/fuzzing.md.
 */
class PartitionRecordsFuzzTest {
  private static final Topics TOPICS = Topics.DEFAULT;
  private static final int PARTITIONS = 4;
  private static final long WINDOW_MS = 10_000;
  private static final long DEFAULT_TTL_MS = 60_000;
  private static final DeviceLimits DEVICES = new DeviceLimits(2, Duration.ofMinutes(1));
  private static final long START_MS = 1_700_000_000_000L;
  /** How far each record's time moves on, by the flags' top three bits; the last: no time. */
  private static final long[] STEPS_MS = {0, 1, 1_000, 5_000, 11_000, 60_001, 3_600_000, -1};
  /** Only the partitioner: nothing is opened. */
  private static final PartitionStores PLACEMENT =
      new PartitionStores(Path.of("partition-records-fuzz-unused"), PARTITIONS, null);
  private static final RecordDecoder DECODER =
      new RecordDecoder(TOPICS.outbound(), DEFAULT_TTL_MS, PLACEMENT::partitionOf);
  /** Never written: every input starts from the same empty store. */
  private static OfflineStore store;

  @AfterAll
  static void close() {
    if (store != null) {
      store.close();
    }
  }

  @FuzzTest
  void appliesEachRecordOrSkipsItWithAReason(byte[] input) throws IOException {
    if (input.length == 0) {
      return;
    }
    if (store == null) {
      store = OfflineStore.open(Files.createTempDirectory("partition-records-fuzz"));
    }
    QueueLimits limits = new QueueLimits(3, 400, (input[0] & 1) == 0
        ? QueueLimits.WhenFull.REJECT : QueueLimits.WhenFull.DROP_OLDEST);
    PartitionMachine machine = new PartitionMachine(WINDOW_MS, limits, DEVICES);
    PartitionState state = new PartitionState(store);
    Set<String> users = new LinkedHashSet<>();
    long time = START_MS;
    long idsForgottenThrough = 0;
    for (int at = 1, offset = 0; at + 2 < input.length; offset++) {
      int flags = input[at] & 0xff;
      int keyEnd = Math.min(input.length, at + 2 + (input[at + 1] & 0xff));
      String key = (flags & 2) != 0 ? null
          : new String(input, at + 2, keyEnd - at - 2, StandardCharsets.UTF_8);
      int valueAt = Math.min(input.length, keyEnd + 2);
      int valueLength = keyEnd + 1 < input.length
          ? ((input[keyEnd] & 0xff) << 8) | (input[keyEnd + 1] & 0xff) : 0;
      int valueEnd = Math.min(input.length, valueAt + valueLength);
      byte[] value = (flags & 4) != 0 ? null : Arrays.copyOfRange(input, valueAt, valueEnd);
      at = valueEnd;

      long step = STEPS_MS[flags >>> 5];
      time += Math.max(0, step);
      long recordMs = step < 0 ? ConsumerRecord.NO_TIMESTAMP : time;
      int partition = key == null ? 0
          : (PLACEMENT.partitionOf(key) + ((flags & 8) != 0 ? 1 : 0)) % PARTITIONS;
      String topic = (flags & 1) == 0 ? TOPICS.outbound() : TOPICS.deliveryEvents();
      ConsumerRecord<String, byte[]> record = new ConsumerRecord<>(topic, partition, offset,
          recordMs, TimestampType.CREATE_TIME, -1, -1, key, value, new RecordHeaders(),
          Optional.empty());

      apply(machine, limits, state, record, users);
      if ((flags & 16) != 0) {
        Outcome swept = new Outcome();
        idsForgottenThrough = machine.expire(state, time, idsForgottenThrough, swept);
        assertThat(swept.expired).isNotNegative();
        users.forEach(user -> assertHoldsTogether(state, user, limits));
      }
    }

    PartitionState.Transaction transaction = state.cut();
    for (StoreChange change : transaction.changes()) {
      assertThat(StoreChange.fromChangelog(change.changelogKey(), change.value()))
          .isEqualTo(change);
    }
    // Receipts only of messages that asked, with an id, for users whose records were applied.
    assertThat(transaction.receipts()).allSatisfy(receipt -> {
      assertThat(receipt.getMessageId()).matches(Limits::isValidId);
      assertThat(users).contains(receipt.getUserId());
      assertThat(receipt.getSeq()).isPositive();
    });
  }

  private static void apply(PartitionMachine machine, QueueLimits limits, PartitionState state,
      ConsumerRecord<String, byte[]> record, Set<String> users) {
    RecordDecoder.Decoded decoded = DECODER.decode(record);
    if (decoded instanceof RecordDecoder.Skip skip) {
      assertThat(skip.reason()).isNotBlank()
          .satisfies(reason -> assertThat(reason.chars().noneMatch(Character::isISOControl))
              .as("a reason without control characters: %s", reason).isTrue());
      return;
    }
    assertThat(record.key()).matches(Limits::isValidId);
    assertThat(PLACEMENT.partitionOf(record.key())).isEqualTo(record.partition());
    String user = record.key();
    users.add(user);
    long clockBefore = state.messageClock();
    UserState before = state.user(user);
    Outcome out = new Outcome();
    if (decoded instanceof RecordDecoder.Queue queue) {
      assertThat(queue.userId()).isEqualTo(user);
      assertThat(record.topic()).isEqualTo(TOPICS.outbound());
      Message message = queue.message();
      assertThat(message.getMessageId()).matches(id -> id.isEmpty() || Limits.isValidId(id));
      assertThat(message.getTtlMs()).isPositive();
      machine.message(state, user, message, record.timestamp(), out);
      UserState after = state.user(user);
      if (out.duplicates == 1) {
        assertThat(after.getLastSeq()).isEqualTo(before.getLastSeq());
      } else {
        assertThat(after.getLastSeq()).isEqualTo(before.getLastSeq() + 1);
        assertThat(after.getStreamEpoch()).isPositive();
        assertThat(out.accepted + out.rejected).isEqualTo(1);
        if (out.accepted == 1) {
          assertThat(out.queued.get(user)).extracting(Outcome.Queued::seq)
              .containsExactly(after.getLastSeq());
        }
      }
      assertThat(state.messageClock()).isGreaterThanOrEqualTo(clockBefore);
    } else {
      DeliveryEvent event = ((RecordDecoder.Event) decoded).event();
      assertThat(event.getUserId()).isEqualTo(user);
      boolean ofUser = event.getKindCase() == DeliveryEvent.KindCase.USER_ERASED
          || event.getKindCase() == DeliveryEvent.KindCase.DELIVERY_PAUSED;
      if (ofUser) {
        assertThat(event.getDeviceId()).isEmpty();
      } else {
        assertThat(event.getDeviceId()).matches(Limits::isValidId);
      }
      machine.event(state, event, record.timestamp(), out);
      UserState after = state.user(user);
      assertThat(after.getLastSeq()).isEqualTo(before.getLastSeq());
      assertThat(after.getStreamEpoch()).isEqualTo(before.getStreamEpoch());
      assertThat(state.messageClock()).isEqualTo(clockBefore);
      boolean push = event.getKindCase() == DeliveryEvent.KindCase.PUSH_TARGET_CHANGED
          || event.getKindCase() == DeliveryEvent.KindCase.PUSH_TARGET_INVALID;
      assertThat(out.sessionChanges).hasSize(push || ofUser ? 0 : 1);
      assertThat(out.adminChanges).hasSize(ofUser ? 1 : 0);
      if (event.getKindCase() == DeliveryEvent.KindCase.USER_ERASED) {
        assertThat(after.getQueuedCount()).isZero();
        assertThat(after.getDeviceAckedCount()).isZero();
        assertThat(after.getPushTargets()).isZero();
      }
      if (event.getKindCase() == DeliveryEvent.KindCase.ACKED) {
        // The cursor is the ack (a uint64) clamped to the last seq, and never moves back.
        long seq = event.getAcked().getSeq();
        long clamped = Long.compareUnsigned(seq, before.getLastSeq()) > 0
            ? before.getLastSeq() : seq;
        assertThat(out.sessionChanges.get(0).cursor()).isEqualTo(Math.max(clamped,
            before.getDeviceAckedOrDefault(event.getDeviceId(), 0)));
      }
      if (!push && !ofUser && event.getKindCase() != DeliveryEvent.KindCase.DISCONNECTED) {
        // Connected devices may stay over the cap; the others are forgotten first.
        assertThat(after.getDeviceAckedCount()).isLessThanOrEqualTo(
            Math.max(DEVICES.maxDevices(), after.getDeviceConnectionCount()));
      }
    }
    assertHoldsTogether(state, user, limits);
  }

  /** The user's counts are what its queue holds, and its cursors stay within its seqs. */
  private static void assertHoldsTogether(PartitionState state, String user, QueueLimits limits) {
    UserState u = state.user(user);
    List<QueuedMessage> queued = state.queued(user, 0, Long.MAX_VALUE, Integer.MAX_VALUE);
    assertThat(u.getQueuedCount()).as("queued count of %s", user).isEqualTo(queued.size())
        .isLessThanOrEqualTo(limits.maxMessages());
    assertThat(u.getQueuedBytes()).as("queued bytes of %s", user)
        .isEqualTo(queued.stream().mapToLong(QueuedMessage::size).sum())
        .isLessThanOrEqualTo(limits.maxBytes());
    assertThat(u.getReceiptMessages()).as("receipt messages of %s", user)
        .isEqualTo(queued.stream().filter(m -> m.receipts() != null).count());
    assertThat(queued).allSatisfy(m -> assertThat(m.seq())
        .isGreaterThan(u.getPurgedThrough()).isLessThanOrEqualTo(u.getLastSeq()));
    assertThat(u.getPurgedThrough()).isBetween(0L, u.getLastSeq());
    assertThat(u.getDeviceAckedMap().values()).allSatisfy(cursor -> assertThat(cursor)
        .isBetween(0L, u.getLastSeq()));
    assertThat(u.getDeviceSeenMsMap().keySet()).isEqualTo(u.getDeviceAckedMap().keySet());
    assertThat(u.getDeviceAckedMap().keySet())
        .containsAll(u.getDeviceConnectionMap().keySet());
    // Push targets only of known devices, and counted.
    assertThat(u.getDeviceAckedMap().keySet()).containsAll(state.pushTargets(user).keySet());
    assertThat(u.getPushTargets()).as("push targets of %s", user)
        .isEqualTo(state.pushTargets(user).size());
  }
}
