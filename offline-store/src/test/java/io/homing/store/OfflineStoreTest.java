package io.homing.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.homing.api.v1.Message;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.RocksIterator;

class OfflineStoreTest {
  @TempDir Path dir;
  private OfflineStore store;

  @BeforeEach
  void open() {
    store = OfflineStore.open(dir);
  }

  @AfterEach
  void close() {
    store.close();
  }

  @Test
  void assignsDenseSeqsPerUserInAppendOrder() {
    try (StoreBatch batch = store.newBatch()) {
      assertThat(batch.append("alice", message("a1"))).isEqualTo(1);
      assertThat(batch.append("bob", message("b1"))).isEqualTo(1);
      assertThat(batch.append("alice", message("a2"))).isEqualTo(2);
      batch.commit();
    }
    try (StoreBatch batch = store.newBatch()) {
      assertThat(batch.append("alice", message("a3"))).isEqualTo(3);
      batch.commit();
    }
    assertThat(ids(store.readAfter("alice", 0, 100))).containsExactly("a1", "a2", "a3");
    assertThat(seqs(store.readAfter("alice", 1, 100))).containsExactly(2L, 3L);
    assertThat(ids(store.readAfter("bob", 0, 100))).containsExactly("b1");
  }

  @Test
  void readAfterHonoursTheLimitAndDoesNotLeakIntoOtherUsers() {
    try (StoreBatch batch = store.newBatch()) {
      for (int i = 1; i <= 5; i++) {
        batch.append("u", message("u" + i));
        batch.append("u2", message("x" + i)); // "u2" sorts right after "u" by bytes
      }
      batch.commit();
    }
    assertThat(ids(store.readAfter("u", 1, 2))).containsExactly("u2", "u3");
    assertThat(ids(store.readAfter("u", 3, 100))).containsExactly("u4", "u5");
    assertThat(store.readAfter("u", 5, 100)).isEmpty();
  }

  @Test
  void uncommittedBatchLeavesNoTrace() {
    try (StoreBatch batch = store.newBatch()) {
      batch.append("alice", message("lost"));
      batch.appliedOffset("outbound", 0, 7);
    }
    assertThat(store.readAfter("alice", 0, 10)).isEmpty();
    assertThat(store.userState("alice").getLastSeq()).isZero();
    assertThat(store.appliedOffset("outbound", 0)).isEqualTo(-1);
  }

  @Test
  void ackDeletesOnlyWhatEveryDeviceAcked() {
    try (StoreBatch batch = store.newBatch()) {
      for (int i = 1; i <= 4; i++) {
        batch.append("alice", message("m" + i));
      }
      batch.ack("alice", "phone", 0, 0);
      batch.ack("alice", "laptop", 0, 0);
      batch.commit();
    }
    try (StoreBatch batch = store.newBatch()) {
      batch.ack("alice", "phone", 3, 0);
      batch.commit();
    }
    assertThat(seqs(store.readAfter("alice", 0, 10))).containsExactly(1L, 2L, 3L, 4L);
    try (StoreBatch batch = store.newBatch()) {
      batch.ack("alice", "laptop", 2, 0);
      batch.commit();
    }
    assertThat(seqs(store.readAfter("alice", 0, 10))).containsExactly(3L, 4L);
    assertThat(store.userState("alice").getDeviceAckedMap())
        .containsEntry("phone", 3L)
        .containsEntry("laptop", 2L);
  }

  @Test
  void ackNeverMovesBackNorBeyondTheLastSeq() {
    try (StoreBatch batch = store.newBatch()) {
      batch.append("alice", message("m1"));
      batch.append("alice", message("m2"));
      assertThat(batch.ack("alice", "phone", 99, 0)).isEqualTo(2);
      assertThat(batch.ack("alice", "phone", 1, 0)).isEqualTo(2);
      batch.commit();
    }
    assertThat(store.readAfter("alice", 0, 10)).isEmpty();
    try (StoreBatch batch = store.newBatch()) {
      assertThat(batch.append("alice", message("m3"))).isEqualTo(3);
      batch.commit();
    }
    assertThat(ids(store.readAfter("alice", 0, 10))).containsExactly("m3");
  }

  @Test
  void stateAndOffsetsSurviveReopening() {
    try (StoreBatch batch = store.newBatch()) {
      batch.append("alice", message("m1"));
      batch.append("alice", message("m2"));
      batch.ack("alice", "phone", 1, 0);
      batch.appliedOffset("outbound", 3, 41);
      batch.appliedOffset("delivery-events", 3, 12);
      batch.commit();
    }
    store.close();
    store.close(); // idempotent
    store = OfflineStore.open(dir);

    assertThat(store.appliedOffset("outbound", 3)).isEqualTo(41);
    assertThat(store.appliedOffset("delivery-events", 3)).isEqualTo(12);
    assertThat(store.appliedOffset("outbound", 4)).isEqualTo(-1);
    assertThat(ids(store.readAfter("alice", 0, 10))).containsExactly("m2");
    try (StoreBatch batch = store.newBatch()) {
      assertThat(batch.append("alice", message("m3"))).isEqualTo(3);
      batch.commit();
    }
  }

  @Test
  void batchReadsItsOwnPendingState() {
    try (StoreBatch batch = store.newBatch()) {
      batch.append("alice", message("m1"));
      assertThat(batch.userState("alice").getLastSeq()).isEqualTo(1);
      assertThat(store.userState("alice").getLastSeq()).isZero();
      batch.commit();
      assertThatThrownBy(batch::commit).isInstanceOf(IllegalStateException.class);
    }
  }

  @Test
  void messageIdsAreSeenPerUserWithinTheirWindow() {
    try (StoreBatch batch = store.newBatch()) {
      assertThat(batch.seenId("alice", "m1", 0)).isFalse();
      batch.rememberId("alice", "m1", 1_000);
      assertThat(batch.seenId("alice", "m1", 0)).as("pending in the same batch").isTrue();
      batch.commit();
    }
    try (StoreBatch batch = store.newBatch()) {
      assertThat(batch.seenId("alice", "m1", 1_000)).isTrue();
      assertThat(batch.seenId("alice", "m1", 1_001)).as("older than the window").isFalse();
      assertThat(batch.seenId("bob", "m1", 0)).as("another user's id").isFalse();
    }
  }

  @Test
  void expiringIdsForgetsOnlyOlderOnesAndKeepsIdsRememberedAgain() {
    try (StoreBatch batch = store.newBatch()) {
      batch.rememberId("alice", "old", 1_000);
      batch.rememberId("alice", "again", 1_000);
      batch.rememberId("alice", "new", 5_000);
      batch.commit();
    }
    try (StoreBatch batch = store.newBatch()) {
      batch.rememberId("alice", "again", 4_000);
      batch.commit();
    }
    try (StoreBatch batch = store.newBatch()) {
      assertThat(batch.expireIds(0, 3_000, 100)).isEqualTo(2);
      batch.commit();
    }
    try (StoreBatch batch = store.newBatch()) {
      assertThat(batch.seenId("alice", "old", 0)).isFalse();
      assertThat(batch.seenId("alice", "again", 0)).isTrue();
      assertThat(batch.seenId("alice", "new", 0)).isTrue();
      assertThat(batch.expireIds(0, 3_000, 100)).isZero();
    }
  }

  @Test
  void expiringIdsStopsAtTheLimit() {
    try (StoreBatch batch = store.newBatch()) {
      for (int i = 0; i < 5; i++) {
        batch.rememberId("alice", "m" + i, i);
      }
      batch.commit();
    }
    try (StoreBatch batch = store.newBatch()) {
      assertThat(batch.expireIds(0, 100, 3)).isEqualTo(3);
      batch.commit();
    }
    try (StoreBatch batch = store.newBatch()) {
      assertThat(batch.seenId("alice", "m2", 0)).isFalse();
      assertThat(batch.seenId("alice", "m3", 0)).isTrue();
      assertThat(batch.expireIds(4, 100, 10)).as("from a later start").isEqualTo(1);
      assertThat(batch.seenId("alice", "m3", 0)).isTrue();
    }
  }

  @Test
  void countsWhatEachQueueHoldsThroughAppendsAndAcks() {
    Message m = message("twelve bytes");
    int size = m.getSerializedSize();
    try (StoreBatch batch = store.newBatch()) {
      batch.append("alice", m);
      batch.append("alice", m);
      batch.append("alice", m);
      batch.ack("alice", "phone", 0, 0);
      batch.commit();
    }
    assertThat(store.userState("alice").getQueuedCount()).isEqualTo(3);
    assertThat(store.userState("alice").getQueuedBytes()).isEqualTo(3L * size);
    try (StoreBatch batch = store.newBatch()) {
      batch.ack("alice", "phone", 2, 0);
      batch.commit();
    }
    assertThat(store.userState("alice").getQueuedCount()).isEqualTo(1);
    assertThat(store.userState("alice").getQueuedBytes()).isEqualTo(size);
  }

  @Test
  void dropOldestMakesRoomFromTheHeadOfTheQueue() {
    try (StoreBatch batch = store.newBatch()) {
      for (int i = 1; i <= 5; i++) {
        batch.append("alice", message("m" + i));
      }
      batch.commit();
    }
    try (StoreBatch batch = store.newBatch()) {
      assertThat(batch.dropOldest("alice", 1, 10, 3, Long.MAX_VALUE)).isEqualTo(3);
      batch.append("alice", message("m6"));
      batch.commit();
    }
    assertThat(store.readAfter("alice", 0, 10)).extracting(StoredMessage::seq)
        .containsExactly(4L, 5L, 6L);
    assertThat(store.userState("alice").getQueuedCount()).isEqualTo(3);
    assertThat(store.userState("alice").getPurgedThrough()).isEqualTo(3);
  }

  @Test
  void dropOldestHoldsTheCapWithinOneBatchToo() {
    try (StoreBatch batch = store.newBatch()) {
      for (int i = 1; i <= 5; i++) {
        if (batch.userState("alice").getQueuedCount() + 1 > 3) {
          assertThat(batch.dropOldest("alice", 1, 10, 3, Long.MAX_VALUE)).isEqualTo(1);
        }
        batch.append("alice", expiring("m" + i, 60_000));
      }
      batch.commit();
    }
    assertThat(store.readAfter("alice", 0, 10)).extracting(StoredMessage::seq)
        .containsExactly(3L, 4L, 5L);
    assertThat(store.userState("alice").getQueuedCount()).isEqualTo(3);
    assertThat(store.userState("alice").getPurgedThrough()).isEqualTo(2);
    assertThat(entries(store.expiry)).hasSize(3);
  }

  @Test
  void expiringRemovesMessagesWhoseTtlEndedAndSkipsAckedOnes() {
    try (StoreBatch batch = store.newBatch()) {
      batch.append("alice", message("short").toBuilder().setCreatedAtMs(1_000).setTtlMs(1_000)
          .build());
      batch.append("alice", message("long").toBuilder().setCreatedAtMs(1_000).setTtlMs(60_000)
          .build());
      batch.append("bob", message("acked").toBuilder().setCreatedAtMs(1_000).setTtlMs(500)
          .build());
      batch.ack("bob", "phone", 1, 0);
      batch.commit();
    }
    try (StoreBatch batch = store.newBatch()) {
      assertThat(batch.expireMessages(2_000, 100)).containsExactly(Map.entry("alice", 1));
      batch.commit();
    }
    assertThat(store.readAfter("alice", 0, 10)).extracting(StoredMessage::seq)
        .containsExactly(2L);
    assertThat(store.userState("alice").getQueuedCount()).isEqualTo(1);
    try (StoreBatch batch = store.newBatch()) {
      assertThat(batch.expireMessages(2_000, 100)).isEmpty();
    }
  }

  @Test
  void devicesUnseenTooLongOrBeyondTheCapStopHoldingMessages() {
    try (StoreBatch batch = store.newBatch()) {
      batch.append("alice", message("m1"));
      batch.ack("alice", "old-tablet", 0, 1_000);
      batch.ack("alice", "laptop", 0, 5_000);
      batch.ack("alice", "phone", 1, 6_000);
      batch.commit();
    }
    try (StoreBatch batch = store.newBatch()) {
      assertThat(batch.retainDevices("alice", 2_000, 3, 6_000)).containsExactly("old-tablet");
      assertThat(batch.retainDevices("alice", 2_000, 1, 6_000)).containsExactly("laptop");
      batch.commit();
    }
    assertThat(store.userState("alice").getDeviceAckedMap()).containsOnlyKeys("phone");
    assertThat(store.readAfter("alice", 0, 10)).as("acked by every device left").isEmpty();
  }

  @Test
  void theCapNeverForgetsADeviceWithAnOpenConnection() {
    try (StoreBatch batch = store.newBatch()) {
      batch.ack("alice", "phone", 0, 1_000);
      batch.connected("alice", "phone", "c1");
      batch.ack("alice", "laptop", 0, 2_000);
      batch.connected("alice", "laptop", "c2");
      assertThat(batch.retainDevices("alice", 0, 1, 3_000)).isEmpty();
      batch.disconnected("alice", "phone", "an-older-connection");
      assertThat(batch.retainDevices("alice", 0, 1, 3_000)).isEmpty();
      batch.disconnected("alice", "phone", "c1");
      assertThat(batch.retainDevices("alice", 0, 1, 3_000)).containsExactly("phone");
    }
  }

  @Test
  void aMessageRemovedBeforeItsTtlEndsLeavesNothingInTheExpiryIndex() {
    try (StoreBatch batch = store.newBatch()) {
      for (int i = 1; i <= 4; i++) {
        batch.append("alice", expiring("m" + i, 60_000));
      }
      batch.append("bob", expiring("b1", 60_000));
      batch.ack("bob", "phone", 1, 0); // acked in the batch that appended it
      batch.commit();
    }
    assertThat(entries(store.expiry)).hasSize(4);
    try (StoreBatch batch = store.newBatch()) {
      batch.ack("alice", "phone", 2, 0);
      batch.commit();
    }
    assertThat(entries(store.expiry)).hasSize(2);
    try (StoreBatch batch = store.newBatch()) {
      assertThat(batch.dropOldest("alice", 1, 10, 1, Long.MAX_VALUE)).isEqualTo(2);
      batch.commit();
    }
    assertThat(entries(store.expiry)).isEmpty();
  }

  @Test
  void theChangesOfEveryBatchRestoreAnIdenticalStore(@TempDir Path otherDir) {
    List<List<StoreChange>> changelog = new ArrayList<>();
    try (StoreBatch batch = store.newBatch()) {
      batch.append("alice", expiring("a1", 10_000));
      batch.append("alice", expiring("a2", 60_000));
      batch.append("bob", message("b1"));
      batch.rememberId("alice", "a1", 1_000);
      batch.ack("alice", "phone", 0, 1_000);
      batch.appliedOffset("outbound", 3, 41);
      changelog.add(batch.seal());
      batch.commit();
    }
    try (StoreBatch batch = store.newBatch()) {
      batch.append("alice", expiring("a3", 60_000));
      batch.ack("alice", "phone", 1, 2_000);
      batch.appliedOffset("outbound", 3, 42);
      changelog.add(batch.seal());
      batch.commit();
    }
    try (StoreBatch batch = store.newBatch()) {
      batch.expireMessages(70_000, 100);
      changelog.add(batch.seal());
      batch.commit();
    }
    try (OfflineStore copy = OfflineStore.open(otherDir)) {
      long offset = 0;
      for (List<StoreChange> changes : changelog) {
        offset += changes.size();
        copy.restore(changes, offset, 5_000);
      }
      assertThat(copy.changelogPosition()).isEqualTo(offset);
      assertThat(copy.changelogPositionAtMs()).isEqualTo(5_000);
      for (String family : List.of("messages", "users", "ids", "id-expiry", "expiry")) {
        assertThat(entries(copy, family)).as(family).isEqualTo(entries(store, family));
      }
      assertThat(copy.appliedOffset("outbound", 3)).isEqualTo(42);
      assertThat(copy.userState("alice").getLastSeq()).isEqualTo(3);
      assertThat(copy.userState("alice").getQueuedCount()).isZero();
    }
  }

  @Test
  void aChangelogRecordRoundTripsAndTombstonesMeanDeletes() {
    StoreChange put = new StoreChange(StoreChange.Family.USERS, new byte[] {1, 2}, new byte[0]);
    StoreChange delete = new StoreChange(StoreChange.Family.MESSAGES, new byte[] {3}, null);
    assertThat(StoreChange.fromChangelog(put.changelogKey(), put.value())).isEqualTo(put);
    assertThat(StoreChange.fromChangelog(delete.changelogKey(), null).isDelete()).isTrue();
    assertThat(put.isDelete()).as("an empty value is not a tombstone").isFalse();
    assertThatThrownBy(() -> StoreChange.fromChangelog(new byte[] {9, 1}, null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("code 9");
  }

  @Test
  void aSealedBatchTakesNoMoreChanges() {
    try (StoreBatch batch = store.newBatch()) {
      batch.append("alice", message("m1"));
      assertThat(batch.seal()).extracting(StoreChange::family)
          .containsExactly(StoreChange.Family.MESSAGES, StoreChange.Family.USERS);
      assertThatThrownBy(() -> batch.append("alice", message("m2")))
          .isInstanceOf(IllegalStateException.class);
      batch.changelogPosition(7, 9_000);
      batch.commit();
    }
    assertThat(store.changelogPosition()).isEqualTo(7);
    assertThat(store.changelogPositionAtMs()).isEqualTo(9_000);
    assertThat(store.userState("alice").getLastSeq()).isEqualTo(1);
  }

  @Test
  void rejectsAnEmptyUserId() {
    try (StoreBatch batch = store.newBatch()) {
      assertThatThrownBy(() -> batch.append("", message("x")))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("userId: 0 bytes");
    }
  }

  private static Message message(String id) {
    return Message.newBuilder()
        .setMessageId(id)
        .setPayload(ByteString.copyFromUtf8("payload of " + id))
        .build();
  }

  private static Message expiring(String id, long ttlMs) {
    return message(id).toBuilder().setCreatedAtMs(1_000).setTtlMs(ttlMs).build();
  }

  private List<String> entries(ColumnFamilyHandle family) {
    return entries(store, family);
  }

  private static List<String> entries(OfflineStore store, String family) {
    return entries(store, switch (family) {
      case "messages" -> store.messages;
      case "users" -> store.users;
      case "ids" -> store.ids;
      case "id-expiry" -> store.idExpiry;
      default -> store.expiry;
    });
  }

  /** Every key and value of the family, in hex, in key order. */
  private static List<String> entries(OfflineStore store, ColumnFamilyHandle family) {
    List<String> entries = new ArrayList<>();
    try (RocksIterator it = store.iterator(family)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        entries.add(HexFormat.of().formatHex(it.key()) + "=" + HexFormat.of().formatHex(it.value()));
      }
    }
    return entries;
  }

  private static List<String> ids(List<StoredMessage> messages) {
    return messages.stream().map(m -> m.message().getMessageId()).toList();
  }

  private static List<Long> seqs(List<StoredMessage> messages) {
    return messages.stream().map(StoredMessage::seq).toList();
  }
}
