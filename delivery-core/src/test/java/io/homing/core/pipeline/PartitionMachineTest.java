package io.homing.core.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.homing.api.v1.DeliveryEvent;
import io.homing.api.v1.DeliveryReceipt;
import io.homing.api.v1.Message;
import io.homing.api.v1.PushTarget;
import io.homing.core.DeviceLimits;
import io.homing.core.QueueLimits;
import io.homing.store.AcceptedId;
import io.homing.store.OfflineStore;
import io.homing.store.PartitionState;
import io.homing.store.StoredMessage;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PartitionMachineTest {
  private static final long WINDOW_MS = 10_000;
  private static final QueueLimits ROOMY = QueueLimits.defaults();

  @TempDir Path dir;
  private PartitionState state;

  @AfterEach
  void close() {
    if (state != null) {
      state.close();
    }
  }

  private PartitionState open() {
    state = new PartitionState(OfflineStore.open(dir));
    return state;
  }

  private static PartitionMachine machine(QueueLimits limits) {
    return new PartitionMachine(WINDOW_MS, limits, DeviceLimits.defaults());
  }

  @Test
  void assignsDenseSeqsPerUserInRecordOrder() {
    PartitionMachine machine = machine(ROOMY);
    Outcome out = new Outcome();
    open();
    machine.message(state, "alice", message("a1"), 1, out);
    machine.message(state, "bob", message("b1"), 2, out);
    machine.message(state, "alice", message("a2"), 3, out);

    assertThat(seqs(out, "alice")).containsExactly(1L, 2L);
    assertThat(seqs(out, "bob")).containsExactly(1L);
    assertThat(ids(state.readAfter("alice", 0, 10))).containsExactly("a1", "a2");
    assertThat(out.accepted).isEqualTo(3);
  }

  @Test
  void anIdAcceptedWithinTheWindowOfTheNewestRecordIsADuplicate() {
    PartitionMachine machine = machine(ROOMY);
    Outcome out = new Outcome();
    open();
    machine.message(state, "alice", message("m1"), 1_000, out);
    machine.message(state, "alice", message("m1"), 1_000 + WINDOW_MS, out);
    machine.message(state, "bob", message("m1"), 1_000, out); // another user's id
    // A record stamped earlier does not move the clock back: m2 is judged at 11,000.
    machine.message(state, "alice", message("m2"), 500, out);
    machine.message(state, "alice", message("m1"), 1_001 + WINDOW_MS, out);

    assertThat(out.duplicates).isEqualTo(1);
    assertThat(seqs(out, "alice")).containsExactly(1L, 2L, 3L);
    assertThat(state.messageClock()).isEqualTo(1_001 + WINDOW_MS);
  }

  @Test
  void aMessageRefusedForAFullQueueStillTakesItsSeqAndItsId() {
    PartitionMachine machine = machine(new QueueLimits(2, Long.MAX_VALUE,
        QueueLimits.WhenFull.REJECT));
    Outcome out = new Outcome();
    open();
    for (int i = 1; i <= 3; i++) {
      machine.message(state, "alice", message("m" + i), i, out);
    }
    machine.message(state, "alice", message("m3"), 4, out); // the refused one, retried
    ack(machine, "alice", "phone", 2, 5, out);
    machine.message(state, "alice", message("m4"), 6, out);

    assertThat(out.full).containsExactly("alice");
    assertThat(out.rejected).isEqualTo(1);
    assertThat(out.duplicates).isEqualTo(1);
    assertThat(seqs(out, "alice")).containsExactly(1L, 2L, 4L);
    assertThat(state.user("alice").getLastSeq()).isEqualTo(4);
    assertThat(state.user("alice").getQueuedCount()).isEqualTo(1);
    assertThat(state.acceptedId("alice", "m3"))
        .isEqualTo(new AcceptedId(3, 3, 0, AcceptedId.Fate.REJECTED));
    assertThat(state.acceptedId("alice", "m4"))
        .isEqualTo(new AcceptedId(6, 4, 0, AcceptedId.Fate.NONE));
  }

  @Test
  void aRememberedIdSaysWhichSeqItTookAndWhyTheMessageWentIfNotByAcks() {
    PartitionMachine machine = machine(new QueueLimits(2, Long.MAX_VALUE,
        QueueLimits.WhenFull.DROP_OLDEST));
    Outcome out = new Outcome();
    open();
    machine.message(state, "alice", expiring("m1"), 1, out);
    machine.message(state, "alice", message("m2"), 2, out);
    machine.message(state, "alice", message("m3"), 3, out); // drops m1
    machine.message(state, "bob", expiring("b1"), 4, out);
    machine.expire(state, 61_000, 0, out);

    assertThat(state.acceptedId("alice", "m1"))
        .isEqualTo(new AcceptedId(1, 1, 61_000, AcceptedId.Fate.REMOVED));
    assertThat(state.acceptedId("alice", "m2"))
        .isEqualTo(new AcceptedId(2, 2, 0, AcceptedId.Fate.NONE));
    assertThat(state.acceptedId("bob", "b1"))
        .isEqualTo(new AcceptedId(4, 1, 61_000, AcceptedId.Fate.EXPIRED));
    assertThat(state.idAcceptedAt("bob", "b1")).as("dedup reads the time alone").isEqualTo(4);
    assertThat(state.acceptedId("alice", "never")).isNull();
  }

  @Test
  void dropOldestMakesRoomFromTheHeadOfTheQueue() {
    PartitionMachine machine = machine(new QueueLimits(3, Long.MAX_VALUE,
        QueueLimits.WhenFull.DROP_OLDEST));
    Outcome out = new Outcome();
    open();
    for (int i = 1; i <= 5; i++) {
      machine.message(state, "alice", expiring("m" + i), i, out);
    }

    assertThat(out.dropped).isEqualTo(2);
    assertThat(state.readAfter("alice", 0, 10)).extracting(StoredMessage::seq)
        .containsExactly(3L, 4L, 5L);
    assertThat(state.user("alice").getQueuedCount()).isEqualTo(3);
    assertThat(state.user("alice").getPurgedThrough()).isEqualTo(2);
    assertThat(state.expired(Long.MAX_VALUE, 10)).as("index entries of dropped ones gone")
        .hasSize(3);
  }

  @Test
  void aMessageLargerThanTheWholeQueueIsRefusedEvenWhenDroppingTheOldest() {
    PartitionMachine machine = machine(new QueueLimits(10, 10,
        QueueLimits.WhenFull.DROP_OLDEST));
    Outcome out = new Outcome();
    open();
    machine.message(state, "alice", message("far too big for ten bytes"), 1, out);

    assertThat(out.rejected).isEqualTo(1);
    assertThat(state.user("alice").getLastSeq()).isEqualTo(1);
  }

  @Test
  void acksDeleteWhatEveryDeviceAckedAndNeverMoveBackNorBeyondTheLastSeq() {
    PartitionMachine machine = machine(ROOMY);
    Outcome out = new Outcome();
    open();
    for (int i = 1; i <= 4; i++) {
      machine.message(state, "alice", message("m" + i), i, out);
    }
    int size = message("m1").getSerializedSize();
    ack(machine, "alice", "phone", 0, 10, out);
    ack(machine, "alice", "laptop", 0, 10, out);
    ack(machine, "alice", "phone", 3, 11, out);
    assertThat(state.readAfter("alice", 0, 10)).hasSize(4);

    ack(machine, "alice", "laptop", 2, 12, out);
    ack(machine, "alice", "phone", 1, 13, out);
    ack(machine, "alice", "laptop", 99, 14, out);

    assertThat(state.readAfter("alice", 0, 10)).extracting(StoredMessage::seq)
        .containsExactly(4L);
    assertThat(state.user("alice").getDeviceAckedMap())
        .containsEntry("phone", 3L).containsEntry("laptop", 4L);
    assertThat(state.user("alice").getQueuedCount()).isEqualTo(1);
    assertThat(state.user("alice").getQueuedBytes()).isEqualTo(size);
    assertThat(out.sessionChanges).last().extracting(Outcome.SessionChange::cursor)
        .isEqualTo(4L);
  }

  @Test
  void anAckOfAUint64AboveTheLongsIsClampedToTheLastSeqLikeAnyOther() {
    // Found by PartitionRecordsFuzzTest (seed ack-beyond-last-seq-and-uint64): 2^64 - 1 read as
    // -1 left the cursor at 0, while an ack of 99 moved it to the last seq.
    PartitionMachine machine = machine(ROOMY);
    Outcome out = new Outcome();
    open();
    machine.message(state, "alice", message("m1"), 1, out);
    machine.message(state, "alice", message("m2"), 2, out);

    ack(machine, "alice", "phone", -1L, 10, out); // uint64 2^64 - 1
    connect(machine, "alice", "laptop", "c2", Long.MIN_VALUE, 11, out); // uint64 2^63

    assertThat(state.user("alice").getDeviceAckedMap())
        .containsEntry("phone", 2L).containsEntry("laptop", 2L);
    assertThat(state.readAfter("alice", 0, 10)).isEmpty();
  }

  @Test
  void expiryRemovesMessagesWhoseTtlEndedAndForgetsIdsNoRecordCanMatch() {
    PartitionMachine machine = machine(ROOMY);
    Outcome out = new Outcome();
    open();
    machine.message(state, "alice", expiring("short").toBuilder().setTtlMs(1_000).build(), 1_000,
        out);
    machine.message(state, "alice", expiring("long"), 1_000, out);
    machine.message(state, "bob", message("later"), 1_000 + 2 * WINDOW_MS, out);

    Outcome swept = new Outcome();
    long forgottenThrough = machine.expire(state, 2_000, 0, swept);

    assertThat(swept.expired).isEqualTo(1);
    assertThat(state.readAfter("alice", 0, 10)).extracting(StoredMessage::seq)
        .containsExactly(2L);
    assertThat(state.user("alice").getQueuedCount()).isEqualTo(1);
    assertThat(forgottenThrough).isEqualTo(1_000 + WINDOW_MS);
    assertThat(state.idAcceptedAt("alice", "short")).isEqualTo(-1);
    assertThat(state.idAcceptedAt("bob", "later")).isEqualTo(1_000 + 2 * WINDOW_MS);
  }

  @Test
  void seqOneNamesTheStreamWithTheMessageClockAndLaterMessagesKeepIt() {
    PartitionMachine machine = machine(ROOMY);
    Outcome out = new Outcome();
    open();
    machine.message(state, "alice", message("a1"), 1_000, out);
    machine.message(state, "alice", message("a2"), 2_000, out);
    // Stamped before the clock: bob's stream is named by the clock, not by his record's time.
    machine.message(state, "bob", message("b1"), 1_500, out);
    connect(machine, "alice", "phone", "c1", 1, 3_000, out);

    assertThat(state.user("alice").getStreamEpoch()).isEqualTo(1_000);
    assertThat(state.user("bob").getStreamEpoch()).isEqualTo(2_000);
    assertThat(state.user("carol").getStreamEpoch()).as("no stream yet").isZero();
  }

  @Test
  void aStreamStartedByARecordStampedZeroStillGetsAnEpoch() {
    PartitionMachine machine = machine(ROOMY);
    open();
    machine.message(state, "alice", message("a1"), 0, new Outcome());

    assertThat(state.user("alice").getStreamEpoch()).isEqualTo(1);
  }

  @Test
  void aConnectNamingAnotherEpochCountsItsLastSeqAsZeroAndNeverMovesACursorBack() {
    PartitionMachine machine = machine(ROOMY);
    Outcome out = new Outcome();
    open();
    for (int i = 1; i <= 4; i++) {
      machine.message(state, "alice", message("m" + i), 1_000, out);
    }
    connect(machine, "alice", "phone", "c1", 2, 1_000, 2_000, out);
    connect(machine, "alice", "laptop", "c2", 3, 999, 2_000, out);
    connect(machine, "alice", "tablet", "c3", 3, 0, 2_000, out);
    connect(machine, "alice", "phone", "c4", 4, 7, 2_000, out);

    assertThat(state.user("alice").getDeviceAckedMap())
        .containsEntry("phone", 2L).containsEntry("laptop", 0L).containsEntry("tablet", 3L);
    assertThat(out.sessionChanges).extracting(Outcome.SessionChange::cursor)
        .containsExactly(2L, 0L, 3L, 2L);
  }

  @Test
  void devicesUnseenTooLongOrBeyondTheCapStopHoldingMessagesButConnectedOnesStay() {
    PartitionMachine machine = new PartitionMachine(WINDOW_MS, ROOMY,
        new DeviceLimits(1, Duration.ofMillis(2_000)));
    Outcome out = new Outcome();
    open();
    machine.message(state, "alice", message("m1"), 1, out);
    connect(machine, "alice", "phone", "c1", 0, 1_000, out);
    connect(machine, "alice", "laptop", "c2", 0, 1_500, out);
    assertThat(state.user("alice").getDeviceAckedMap()).as("both connected")
        .containsOnlyKeys("phone", "laptop");

    disconnect(machine, "alice", "phone", "an-older-connection", 1_600, out);
    assertThat(state.user("alice").getDeviceAckedMap()).containsOnlyKeys("phone", "laptop");
    disconnect(machine, "alice", "phone", "c1", 1_700, out);
    ack(machine, "alice", "laptop", 1, 4_000, out);

    assertThat(state.user("alice").getDeviceAckedMap()).containsOnlyKeys("laptop");
    assertThat(out.devicesForgotten).isEqualTo(1);
    assertThat(state.readAfter("alice", 0, 10)).as("acked by every device left").isEmpty();
  }

  @Test
  void aPushTargetIsSetReplacedRemovedAndCountedPerDevice() {
    PartitionMachine machine = machine(ROOMY);
    Outcome out = new Outcome();
    open();
    connect(machine, "alice", "phone", "c1", 0, 900, out);
    connect(machine, "alice", "laptop", "c2", 0, 900, out);
    setPushTarget(machine, "alice", "stranger", fcm("token-0"), 950, out);
    assertThat(state.pushTargets("alice")).as("a device never connected sets none").isEmpty();
    setPushTarget(machine, "alice", "phone", fcm("token-1"), 1_000, out);
    setPushTarget(machine, "alice", "laptop", webhook("http://127.0.0.1/h"), 1_100, out);
    setPushTarget(machine, "alice", "phone", fcm("token-2"), 1_200, out);

    assertThat(state.user("alice").getPushTargets()).isEqualTo(2);
    assertThat(state.pushTargets("alice")).containsOnlyKeys("laptop", "phone");
    assertThat(state.pushTarget("alice", "phone").getTarget()).isEqualTo(fcm("token-2"));
    assertThat(state.pushTarget("alice", "phone").getSetAtMs()).isEqualTo(1_200);
    assertThat(state.user("alice").getDeviceSeenMsMap()).containsEntry("phone", 1_200L);

    setPushTarget(machine, "alice", "laptop", null, 1_300, out);
    setPushTarget(machine, "alice", "tablet", null, 1_300, out); // had none: nothing to remove
    assertThat(state.user("alice").getPushTargets()).isEqualTo(1);
    assertThat(state.pushTargets("alice")).containsOnlyKeys("phone");
    assertThat(state.pushTargets("bob")).isEmpty();
  }

  @Test
  void anInvalidatedTargetGoesOnlyIfStillTheSameAndSetBeforeTheProviderSaidSo() {
    PartitionMachine machine = machine(ROOMY);
    Outcome out = new Outcome();
    open();
    connect(machine, "alice", "phone", "c1", 0, 900, out);
    setPushTarget(machine, "alice", "phone", fcm("old"), 1_000, out);
    invalidate(machine, "alice", "phone", fcm("other"), 5_000, out);
    assertThat(state.pushTargets("alice")).as("another target").containsOnlyKeys("phone");
    invalidate(machine, "alice", "phone", fcm("old"), 900, out);
    assertThat(state.pushTargets("alice")).as("invalid since before it was set")
        .containsOnlyKeys("phone");

    invalidate(machine, "alice", "phone", fcm("old"), 1_000, out);
    assertThat(state.pushTargets("alice")).isEmpty();
    assertThat(state.user("alice").getPushTargets()).isZero();
    assertThat(out.pushTargetsInvalidated).isEqualTo(3);
    invalidate(machine, "alice", "phone", fcm("old"), 2_000, out);
    assertThat(state.user("alice").getPushTargets()).as("never below zero").isZero();
  }

  @Test
  void anInvalidationNamingTheRegistrationRemovesExactlyThatOneWhateverTheClocksSay() {
    PartitionMachine machine = machine(ROOMY);
    Outcome out = new Outcome();
    open();
    connect(machine, "alice", "phone", "c1", 0, 900, out);
    setPushTarget(machine, "alice", "phone", fcm("t"), 5_000, out); // an edge clock ahead
    invalidate(machine, "alice", "phone", fcm("t"), 1_000, 4_000, out); // another registration
    assertThat(state.pushTargets("alice")).containsOnlyKeys("phone");

    invalidate(machine, "alice", "phone", fcm("t"), 1_000, 5_000, out);
    assertThat(state.pushTargets("alice")).isEmpty();
  }

  @Test
  void aForgottenDeviceLosesItsPushTarget() {
    PartitionMachine machine = new PartitionMachine(WINDOW_MS, ROOMY,
        new DeviceLimits(10, Duration.ofMillis(2_000)));
    Outcome out = new Outcome();
    open();
    connect(machine, "alice", "phone", "c1", 0, 1_000, out);
    setPushTarget(machine, "alice", "phone", fcm("t"), 1_000, out);
    connect(machine, "alice", "laptop", "c2", 0, 1_500, out);
    setPushTarget(machine, "alice", "laptop", fcm("u"), 1_500, out);
    disconnect(machine, "alice", "phone", "c1", 1_600, out);

    ack(machine, "alice", "laptop", 0, 3_100, out); // phone unseen since 1,000: past retention

    assertThat(state.pushTargets("alice")).containsOnlyKeys("laptop");
    assertThat(state.user("alice").getPushTargets()).isEqualTo(1);
  }

  /**
   * The guarantee delivery before commit rests on: whatever events interleave with the message
   * records, whenever sweeps run and wherever a crash cuts the durable state, replaying the input
   * after the last commit gives every seq the message it had, and every user's stream the same
   * epoch: the message clock at the user's first message, whatever came between. Queues are
   * tiny, so caps refuse and drop; ids repeat; TTLs end; devices come and go, ack anything and
   * connect naming no epoch, the stream's or another.
   */
  @Test
  void aReplayFromTheLastCommitAssignsEverySeqToTheSameMessage() {
    for (QueueLimits.WhenFull whenFull : QueueLimits.WhenFull.values()) {
      PartitionMachine machine = machine(new QueueLimits(3, Long.MAX_VALUE, whenFull));
      for (long seed = 0; seed < 40; seed++) {
        Random random = new Random(seed);
        List<Input> messages = messages(random, 120);
        Map<String, Long> epochs = epochsOf(messages);
        List<Input> events = events(random, 120, epochs);
        Path run = dir.resolve(whenFull + "-" + seed);

        // First life: everything in one interleaving, committed part-way, then it dies.
        state = new PartitionState(OfflineStore.open(run));
        List<Input> first = interleave(random, messages, events);
        int committedAt = random.nextInt(first.size());
        Map<String, Long> delivered = new HashMap<>();
        long committedMessages = -1;
        long committedEvents = -1;
        for (int i = 0; i < first.size(); i++) {
          apply(machine, first.get(i), random, delivered);
          if (i == committedAt) {
            PartitionState.Transaction t = state.cut();
            t.writeLocally(1, 0);
            state.written(t);
            committedMessages = lastOffset(first.subList(0, i + 1), true);
            committedEvents = lastOffset(first.subList(0, i + 1), false);
          }
        }
        Map<String, Long> lastSeqs = lastSeqs(messages);
        assertThat(streamEpochs(messages)).as("%s seed %d: first life", whenFull, seed)
            .isEqualTo(epochs);
        state.close(); // the crash: nothing after the commit was written

        // Second life: from the committed store, the rest again, interleaved otherwise.
        state = new PartitionState(OfflineStore.open(run));
        long fromMessages = committedMessages;
        long fromEvents = committedEvents;
        List<Input> replay = interleave(random,
            messages.stream().filter(m -> m.offset() > fromMessages).toList(),
            events.stream().filter(e -> e.offset() > fromEvents).toList());
        Map<String, Long> redelivered = new HashMap<>();
        for (Input input : replay) {
          apply(machine, input, random, redelivered);
        }

        for (Map.Entry<String, Long> seq : redelivered.entrySet()) {
          if (delivered.containsKey(seq.getKey())) {
            assertThat(seq.getValue()).as("%s seed %d: message of %s", whenFull, seed,
                seq.getKey()).isEqualTo(delivered.get(seq.getKey()));
          }
        }
        assertThat(lastSeqs(messages)).isEqualTo(lastSeqs);
        for (String user : lastSeqs.keySet()) {
          assertThat(state.user(user).getReceiptMessages()).as("%s seed %d: %s's receipt "
              + "messages", whenFull, seed, user).isEqualTo(state.readAfter(user, 0, 1_000)
              .stream().filter(m -> m.message().getReceipts()).count());
        }
        assertThat(streamEpochs(messages)).as("%s seed %d: replay", whenFull, seed)
            .isEqualTo(epochs);
        state.close();
        state = null;
      }
    }
  }

  @Test
  void receiptsSayAcceptedThenAckedPerDeviceOnlyForMessagesThatAsked() {
    PartitionMachine machine = machine(ROOMY);
    Outcome out = new Outcome();
    open();
    connect(machine, "alice", "phone", "c1", 0, 1, out);
    connect(machine, "alice", "tablet", "c2", 0, 2, out);
    machine.message(state, "alice", withReceipts("m1"), 10, out);
    machine.message(state, "alice", message("m2"), 11, out);
    machine.message(state, "alice", withReceipts("m3"), 12, out);
    machine.message(state, "alice", withReceipts(""), 13, out); // no id: no receipts
    assertThat(state.user("alice").getReceiptMessages()).isEqualTo(2);
    ack(machine, "alice", "phone", 3, 20, out);
    ack(machine, "alice", "tablet", 1, 21, out);
    ack(machine, "alice", "tablet", 1, 22, out); // again: nothing new
    connect(machine, "alice", "tablet", "c3", 4, 23, out); // holds through 4
    ack(machine, "alice", "phone", 4, 24, out);

    assertThat(describe(state.cut().receipts())).containsExactly(
        "m1 alice/ #1 ACCEPTED at 10 by billing",
        "m3 alice/ #3 ACCEPTED at 12 by billing",
        "m1 alice/phone #1 ACKED at 20 by billing",
        "m3 alice/phone #3 ACKED at 20 by billing",
        "m1 alice/tablet #1 ACKED at 21 by billing",
        "m3 alice/tablet #3 ACKED at 23 by billing");
    assertThat(state.user("alice").getReceiptMessages()).as("all acked, so deleted").isZero();
    assertThat(state.user("alice").getQueuedCount()).isZero();
  }

  @Test
  void receiptsSayRejectedRemovedAndExpiredWithTheTimeOfWhatDecidedIt() {
    open();
    Outcome out = new Outcome();
    PartitionMachine rejecting = machine(new QueueLimits(1, Long.MAX_VALUE,
        QueueLimits.WhenFull.REJECT));
    rejecting.message(state, "alice", withReceipts("a1"), 10, out);
    rejecting.message(state, "alice", withReceipts("a2"), 11, out);
    PartitionMachine dropping = machine(new QueueLimits(1, Long.MAX_VALUE,
        QueueLimits.WhenFull.DROP_OLDEST));
    dropping.message(state, "bob", withReceipts("b1"), 12, out);
    dropping.message(state, "bob", message("b2"), 13, out);
    dropping.message(state, "carol", withReceipts("c1").toBuilder().setCreatedAtMs(1_000)
        .setTtlMs(500).build(), 14, out);
    dropping.expire(state, 1_500, 0, out);

    assertThat(describe(state.cut().receipts())).containsExactly(
        "a1 alice/ #1 ACCEPTED at 10 by billing",
        "a2 alice/ #2 REJECTED at 11 by billing",
        "b1 bob/ #1 ACCEPTED at 12 by billing",
        "b1 bob/ #1 REMOVED at 13 by billing",
        "c1 carol/ #1 ACCEPTED at 14 by billing",
        "c1 carol/ #1 EXPIRED at 1500 by billing");
    assertThat(state.user("alice").getReceiptMessages()).isEqualTo(1);
    assertThat(state.user("bob").getReceiptMessages()).isZero();
    assertThat(state.user("carol").getReceiptMessages()).isZero();
  }

  /** One input record: a message (user, id, time) or an event, with its offset in its topic. */
  private record Input(boolean message, long offset, String user, String id, long atMs,
      DeliveryEvent event) {}

  private List<Input> messages(Random random, int count) {
    List<Input> list = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      String id = "id-" + random.nextInt(count / 2); // ids repeat, within and beyond the window
      list.add(new Input(true, i, "u" + random.nextInt(3), id, i * 500L + random.nextInt(2_000),
          null));
    }
    return list;
  }

  /**
   * Each user's stream epoch as the messages alone define it: the message clock (the newest
   * record time so far) when the user's first message came.
   */
  private static Map<String, Long> epochsOf(List<Input> messages) {
    Map<String, Long> epochs = new HashMap<>();
    long clock = 0;
    for (Input m : messages) {
      clock = Math.max(clock, m.atMs());
      epochs.putIfAbsent(m.user(), Math.max(1, clock));
    }
    return epochs;
  }

  private List<Input> events(Random random, int count, Map<String, Long> epochs) {
    List<Input> list = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      String user = "u" + random.nextInt(3);
      String device = "d" + random.nextInt(2);
      DeliveryEvent.Builder e = DeliveryEvent.newBuilder().setUserId(user).setDeviceId(device)
          .setNodeId("edge").setConnectionId("c" + random.nextInt(3));
      int kind = random.nextInt(32);
      if (kind >= 30) { // now and then an operator's erase or pause, which name no device
        e.clearDeviceId().clearConnectionId();
        if (kind == 30) {
          e.setUserErased(DeliveryEvent.UserErased.getDefaultInstance());
        } else {
          e.setDeliveryPaused(DeliveryEvent.DeliveryPaused.newBuilder()
              .setPaused(random.nextBoolean()));
        }
        list.add(new Input(false, i, user, null, i * 500L, e.build()));
        continue;
      }
      switch (kind % 3) {
        case 0 -> {
          long epoch = epochs.getOrDefault(user, 0L);
          e.setConnected(DeliveryEvent.Connected.newBuilder().setLastSeq(random.nextInt(40))
              .setStreamEpoch(switch (random.nextInt(3)) {
                case 0 -> 0;
                case 1 -> epoch;
                default -> epoch + 1; // an older stream's
              }));
        }
        case 1 -> e.setAcked(DeliveryEvent.Acked.newBuilder().setSeq(random.nextInt(60)));
        default -> e.setDisconnected(DeliveryEvent.Disconnected.getDefaultInstance());
      }
      list.add(new Input(false, i, user, null, i * 500L, e.build()));
    }
    return list;
  }

  /** A random merge that keeps each topic's own order, as a consumer's fetches would. */
  private static List<Input> interleave(Random random, List<Input> a, List<Input> b) {
    List<Input> merged = new ArrayList<>();
    int i = 0;
    int j = 0;
    while (i < a.size() || j < b.size()) {
      boolean takeA = j >= b.size() || (i < a.size() && random.nextBoolean());
      merged.add(takeA ? a.get(i++) : b.get(j++));
    }
    return merged;
  }

  /** Applies one input, sometimes after a sweep at a random time; records what was queued. */
  private void apply(PartitionMachine machine, Input input, Random random,
      Map<String, Long> queued) {
    Outcome out = new Outcome();
    if (random.nextInt(10) == 0) {
      machine.expire(state, input.atMs() + random.nextInt(20_000), 0, out);
    }
    if (input.message()) {
      Message m = Message.newBuilder().setMessageId(input.id())
          .setPayload(ByteString.copyFromUtf8(input.user() + "@" + input.offset()))
          .setCreatedAtMs(input.atMs()).setTtlMs(1_000 + random.nextInt(20_000))
          .setReceipts(input.offset() % 2 == 0).build();
      machine.message(state, input.user(), m, input.atMs(), out);
    } else {
      machine.event(state, input.event(), input.atMs(), out);
    }
    out.queued.forEach((user, list) -> list.forEach(q ->
        queued.put(user + "#" + q.seq(), Long.parseLong(
            q.message().getPayload().toStringUtf8().substring(user.length() + 1)))));
  }

  private Map<String, Long> lastSeqs(List<Input> messages) {
    Map<String, Long> result = new HashMap<>();
    messages.forEach(m -> result.put(m.user(), state.user(m.user()).getLastSeq()));
    return result;
  }

  private Map<String, Long> streamEpochs(List<Input> messages) {
    Map<String, Long> result = new HashMap<>();
    messages.forEach(m -> result.put(m.user(), state.user(m.user()).getStreamEpoch()));
    return result;
  }

  private static long lastOffset(List<Input> applied, boolean messages) {
    return applied.stream().filter(in -> in.message() == messages).mapToLong(Input::offset)
        .max().orElse(-1);
  }

  @Test
  void anEraseTakesTheQueueDevicesAndTargetsButNotTheSeqsOrIds() {
    PartitionMachine machine = machine(ROOMY);
    Outcome out = new Outcome();
    open();
    connect(machine, "alice", "phone", "c1", 0, 900, out);
    setPushTarget(machine, "alice", "phone", fcm("token"), 950, out);
    machine.message(state, "alice", message("m1"), 1_000, out);
    machine.message(state, "alice", message("m2"), 1_001, out);
    ack(machine, "alice", "phone", 1, 1_002, out);
    pause(machine, "alice", true, 1_003, out);
    machine.message(state, "bob", message("b1"), 1_004, out);
    long epoch = state.user("alice").getStreamEpoch();

    Outcome erased = new Outcome();
    erase(machine, "alice", 2_000, erased);

    assertThat(erased.adminChanges)
        .containsExactly(new Outcome.AdminChange("alice", Outcome.AdminKind.ERASED, 0));
    assertThat(state.readAfter("alice", 0, 10)).isEmpty();
    assertThat(state.pushTargets("alice")).isEmpty();
    assertThat(state.user("alice").getDeviceAckedMap()).isEmpty();
    assertThat(state.user("alice").getDeviceConnectionMap()).isEmpty();
    assertThat(state.user("alice").getPaused()).as("a pause outlives the erase").isTrue();
    assertThat(state.user("alice").getLastSeq()).isEqualTo(2);
    assertThat(state.user("alice").getStreamEpoch()).isEqualTo(epoch);
    assertThat(state.user("alice").getQueuedCount()).isZero();
    assertThat(state.acceptedId("alice", "m2").fate()).isEqualTo(AcceptedId.Fate.REMOVED);
    assertThat(ids(state.readAfter("bob", 0, 10))).as("others keep theirs").containsExactly("b1");

    Outcome next = new Outcome();
    machine.message(state, "alice", message("m2"), 2_001, next); // within the dedup window
    machine.message(state, "alice", message("m3"), 2_002, next);
    assertThat(next.duplicates).as("ids stay, so a replay decides the same").isEqualTo(1);
    assertThat(seqs(next, "alice")).containsExactly(3L);
  }

  @Test
  void aPausedUsersMessagesQueueAndAreMarkedHeld() {
    PartitionMachine machine = machine(ROOMY);
    open();
    Outcome paused = new Outcome();
    pause(machine, "alice", true, 1_000, paused);
    machine.message(state, "alice", message("m1"), 1_001, paused);
    machine.message(state, "bob", message("b1"), 1_002, paused);

    assertThat(paused.adminChanges)
        .containsExactly(new Outcome.AdminChange("alice", Outcome.AdminKind.PAUSED, 0));
    assertThat(paused.paused).containsExactly("alice");
    assertThat(seqs(paused, "alice")).containsExactly(1L);
    assertThat(state.user("alice").getPaused()).isTrue();

    Outcome resumed = new Outcome();
    pause(machine, "alice", false, 1_003, resumed);
    machine.message(state, "alice", message("m2"), 1_004, resumed);
    assertThat(resumed.adminChanges)
        .containsExactly(new Outcome.AdminChange("alice", Outcome.AdminKind.RESUMED, 0));
    assertThat(resumed.paused).isEmpty();
    assertThat(state.user("alice").getPaused()).isFalse();
  }

  private void erase(PartitionMachine machine, String user, long atMs, Outcome out) {
    machine.event(state, DeliveryEvent.newBuilder().setUserId(user).setNodeId("core-0")
        .setUserErased(DeliveryEvent.UserErased.getDefaultInstance()).build(), atMs, out);
  }

  private void pause(PartitionMachine machine, String user, boolean paused, long atMs,
      Outcome out) {
    machine.event(state, DeliveryEvent.newBuilder().setUserId(user).setNodeId("core-0")
        .setDeliveryPaused(DeliveryEvent.DeliveryPaused.newBuilder().setPaused(paused)).build(),
        atMs, out);
  }

  private void ack(PartitionMachine machine, String user, String device, long seq, long atMs,
      Outcome out) {
    machine.event(state, DeliveryEvent.newBuilder().setUserId(user).setDeviceId(device)
        .setNodeId("edge").setConnectionId("c")
        .setAcked(DeliveryEvent.Acked.newBuilder().setSeq(seq)).build(), atMs, out);
  }

  private void connect(PartitionMachine machine, String user, String device, String connection,
      long lastSeq, long atMs, Outcome out) {
    connect(machine, user, device, connection, lastSeq, 0, atMs, out);
  }

  private void connect(PartitionMachine machine, String user, String device, String connection,
      long lastSeq, long epoch, long atMs, Outcome out) {
    machine.event(state, DeliveryEvent.newBuilder().setUserId(user).setDeviceId(device)
        .setNodeId("edge").setConnectionId(connection)
        .setConnected(DeliveryEvent.Connected.newBuilder().setLastSeq(lastSeq)
            .setStreamEpoch(epoch)).build(), atMs, out);
  }

  private void disconnect(PartitionMachine machine, String user, String device,
      String connection, long atMs, Outcome out) {
    machine.event(state, DeliveryEvent.newBuilder().setUserId(user).setDeviceId(device)
        .setNodeId("edge").setConnectionId(connection)
        .setDisconnected(DeliveryEvent.Disconnected.getDefaultInstance()).build(), atMs, out);
  }

  private void setPushTarget(PartitionMachine machine, String user, String device,
      PushTarget target, long atMs, Outcome out) {
    DeliveryEvent.PushTargetChanged.Builder changed = DeliveryEvent.PushTargetChanged.newBuilder();
    if (target != null) {
      changed.setTarget(target);
    }
    machine.event(state, DeliveryEvent.newBuilder().setUserId(user).setDeviceId(device)
        .setNodeId("edge").setConnectionId("c").setPushTargetChanged(changed).build(), atMs, out);
  }

  private void invalidate(PartitionMachine machine, String user, String device,
      PushTarget target, long sinceMs, Outcome out) {
    invalidate(machine, user, device, target, sinceMs, 0, out);
  }

  private void invalidate(PartitionMachine machine, String user, String device,
      PushTarget target, long sinceMs, long targetSetAtMs, Outcome out) {
    machine.event(state, DeliveryEvent.newBuilder().setUserId(user).setDeviceId(device)
        .setNodeId("notifier").setPushTargetInvalid(DeliveryEvent.PushTargetInvalid.newBuilder()
            .setTarget(target).setInvalidSinceMs(sinceMs).setReason("UNREGISTERED")
            .setTargetSetAtMs(targetSetAtMs))
        .build(), sinceMs + 10, out);
  }

  static PushTarget fcm(String token) {
    return PushTarget.newBuilder()
        .setFcm(PushTarget.Fcm.newBuilder().setRegistrationToken(token)).build();
  }

  static PushTarget webhook(String url) {
    return PushTarget.newBuilder().setWebhook(PushTarget.Webhook.newBuilder().setUrl(url))
        .build();
  }

  private static List<Long> seqs(Outcome out, String user) {
    return out.queued.getOrDefault(user, List.of()).stream().map(Outcome.Queued::seq).toList();
  }

  private static Message message(String id) {
    return Message.newBuilder().setMessageId(id)
        .setPayload(ByteString.copyFromUtf8("payload of " + id)).build();
  }

  private static Message withReceipts(String id) {
    return message(id).toBuilder().setReceipts(true).setSender("billing").build();
  }

  private static List<String> describe(List<DeliveryReceipt> receipts) {
    return receipts.stream().map(r -> r.getMessageId() + " " + r.getUserId() + "/"
        + r.getDeviceId() + " #" + r.getSeq() + " " + r.getState() + " at " + r.getAtMs()
        + " by " + r.getSender()).toList();
  }

  private static Message expiring(String id) {
    return message(id).toBuilder().setCreatedAtMs(1_000).setTtlMs(60_000).build();
  }

  private static List<String> ids(List<StoredMessage> messages) {
    return messages.stream().map(m -> m.message().getMessageId()).toList();
  }
}
