package io.homing.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.homing.api.v1.Message;
import io.homing.store.v1.UserState;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PartitionStateTest {
  @TempDir Path dir;
  private OfflineStore store;
  private PartitionState state;

  @BeforeEach
  void open() {
    store = OfflineStore.open(dir);
    state = new PartitionState(store);
  }

  @AfterEach
  void close() {
    state.close();
  }

  @Test
  void readsSeeChangesAtOnceAndTheStoreOnlyOnceTheirTransactionIsWritten() {
    state.putMessage("alice", 1, message("a1"));
    state.putUser("alice", UserState.newBuilder().setLastSeq(1).build());

    assertThat(ids(state.readAfter("alice", 0, 10))).containsExactly("a1");
    assertThat(state.user("alice").getLastSeq()).isEqualTo(1);
    assertThat(store.readAfter("alice", 0, 10)).isEmpty();
    assertThat(store.userState("alice").getLastSeq()).isZero();

    PartitionState.Transaction t = state.cut();
    t.writeLocally(7, 9_000);
    state.written(t);

    assertThat(ids(store.readAfter("alice", 0, 10))).containsExactly("a1");
    assertThat(store.userState("alice").getLastSeq()).isEqualTo(1);
    assertThat(store.changelogPosition()).isEqualTo(7);
    assertThat(store.changelogPositionAtMs()).isEqualTo(9_000);
    assertThat(ids(state.readAfter("alice", 0, 10))).containsExactly("a1");
    assertThat(state.user("alice")).isEqualTo(store.userState("alice"));

    state.putUser("alice", UserState.newBuilder().setLastSeq(2).build());
    PartitionState.Transaction next = state.cut();
    next.writeLocally(8, 9_000);
    state.written(next);
    assertThat(state.user("alice").getLastSeq()).as("the cached state follows the writes")
        .isEqualTo(2).isEqualTo(store.userState("alice").getLastSeq());
  }

  @Test
  void changesNeverWrittenLeaveNoTraceInTheStore() {
    state.putMessage("alice", 1, message("lost"));
    state.appliedOffset("outbound", 0, 7);
    state.cut(); // cut, but the changelog never took it
    state.putUser("alice", UserState.newBuilder().setLastSeq(1).build());
    state.close();

    store = OfflineStore.open(dir);
    state = new PartitionState(store);
    assertThat(state.readAfter("alice", 0, 10)).isEmpty();
    assertThat(state.user("alice").getLastSeq()).isZero();
    assertThat(state.appliedOffset("outbound", 0)).isEqualTo(-1);
    assertThat(store.changelogPosition()).isZero();
  }

  @Test
  void aLaterTransactionsChangeOutlivesTheWritingOfAnEarlierOne() {
    state.putMessage("alice", 1, message("m1"));
    state.putMessage("alice", 2, message("m2"));
    PartitionState.Transaction first = state.cut();
    state.deleteMessage("alice", new QueuedMessage(1, 0, 0));
    state.putMessage("alice", 3, message("m3"));

    first.writeLocally(2, 0);
    state.written(first);

    assertThat(seqs(store.readAfter("alice", 0, 10))).containsExactly(1L, 2L);
    assertThat(seqs(state.readAfter("alice", 0, 10))).as("the pending delete still hides m1")
        .containsExactly(2L, 3L);
    PartitionState.Transaction second = state.cut();
    second.writeLocally(4, 0);
    state.written(second);
    assertThat(seqs(store.readAfter("alice", 0, 10))).containsExactly(2L, 3L);
  }

  @Test
  void aTransactionMayBeWrittenOnAnotherThreadWhileTheNextFills() throws Exception {
    for (int i = 1; i <= 100; i++) {
      state.putMessage("alice", i, message("m" + i));
    }
    PartitionState.Transaction t = state.cut();
    CompletableFuture<Void> writing = CompletableFuture.runAsync(() -> t.writeLocally(100, 0));
    for (int i = 101; i <= 200; i++) {
      state.putMessage("alice", i, message("m" + i));
      assertThat(state.readAfter("alice", i - 1, 1)).extracting(StoredMessage::seq)
          .containsExactly((long) i);
    }
    writing.get();
    state.written(t);
    assertThat(state.readAfter("alice", 0, 1000)).hasSize(200);
    assertThat(store.readAfter("alice", 0, 1000)).hasSize(100);
    assertThatThrownBy(() -> t.writeLocally(100, 0)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void queuedRangesMergePendingAndStoredAndNeverLeakIntoOtherUsers() {
    for (int i = 1; i <= 3; i++) {
      state.putMessage("u", i, message("u" + i));
      state.putMessage("u2", i, message("x" + i)); // "u2" sorts right after "u" by bytes
    }
    write(state.cut());
    state.putMessage("u", 4, message("u4"));
    state.deleteMessage("u", new QueuedMessage(2, 0, 0));

    assertThat(state.queued("u", 1, Long.MAX_VALUE, 100)).extracting(QueuedMessage::seq)
        .containsExactly(1L, 3L, 4L);
    assertThat(state.queued("u", 2, 3, 100)).extracting(QueuedMessage::seq).containsExactly(3L);
    assertThat(state.queued("u", 1, Long.MAX_VALUE, 2)).hasSize(2);
    assertThat(ids(state.readAfter("u", 1, 100))).containsExactly("u3", "u4");
    assertThat(state.readAfter("u", 4, 100)).isEmpty();
    assertThat(state.queued("u", 1, 1, 10).get(0).size())
        .isEqualTo(message("u1").getSerializedSize());
  }

  @Test
  void expiredFindsOnlyEndedTtlsAndForgetsIndexEntriesOfRemovedMessages() {
    state.putMessage("alice", 1, expiring("short", 1_000));
    state.putMessage("alice", 2, expiring("long", 60_000));
    state.putMessage("bob", 1, expiring("gone", 500));
    write(state.cut());
    state.deleteMessage("bob", new QueuedMessage(1, 0, 0)); // its index entry stays behind

    List<ExpiredMessage> expired = state.expired(2_000, 100);

    assertThat(expired).containsExactly(
        new ExpiredMessage("alice", new QueuedMessage(1, expiring("short", 1_000)
            .getSerializedSize(), 2_000, "short", null)));
    write(state.cut());
    assertThat(entries(store, Column.EXPIRY)).hasSize(2);
  }

  @Test
  void removingAMessageRemovesItsEntryInTheExpiryIndex() {
    state.putMessage("alice", 1, expiring("m1", 60_000));
    state.putMessage("alice", 2, expiring("m2", 60_000));
    write(state.cut());
    state.deleteMessage("alice", state.queued("alice", 1, 1, 1).get(0));
    write(state.cut());

    assertThat(entries(store, Column.EXPIRY)).hasSize(1);
  }

  @Test
  void messageIdsAreRememberedPerUserUntilForgotten() {
    assertThat(state.idAcceptedAt("alice", "m1")).isEqualTo(-1);
    state.putId("alice", "m1", 1_000);
    assertThat(state.idAcceptedAt("alice", "m1")).as("pending").isEqualTo(1_000);
    write(state.cut());
    assertThat(state.idAcceptedAt("alice", "m1")).isEqualTo(1_000);
    assertThat(state.idAcceptedAt("bob", "m1")).as("another user's id").isEqualTo(-1);
  }

  @Test
  void forgettingIdsSparesIdsAcceptedAgainAndStopsAtTheLimit() {
    state.putId("alice", "old", 1_000);
    state.putId("alice", "again", 1_000);
    state.putId("alice", "new", 5_000);
    for (int i = 0; i < 3; i++) {
      state.putId("bob", "m" + i, 2_000 + i);
    }
    write(state.cut());
    state.putId("alice", "again", 4_000);

    assertThat(state.forgetIds(0, 3_000, 3)).isEqualTo(3);
    assertThat(state.idAcceptedAt("alice", "old")).isEqualTo(-1);
    assertThat(state.idAcceptedAt("alice", "again")).isEqualTo(4_000);
    assertThat(state.idAcceptedAt("bob", "m1")).as("beyond the limit").isEqualTo(2_001);
    assertThat(state.forgetIds(2_001, 3_000, 10)).as("from a later start").isEqualTo(2);
    assertThat(state.idAcceptedAt("bob", "m2")).isEqualTo(-1);
    assertThat(state.idAcceptedAt("alice", "new")).isEqualTo(5_000);
  }

  @Test
  void offsetsAndTheMessageClockSurviveReopening() {
    state.appliedOffset("outbound", 3, 41);
    state.appliedOffset("delivery-events", 3, 12);
    state.messageClock(123_456);
    write(state.cut());
    state.close();
    state.close(); // idempotent

    store = OfflineStore.open(dir);
    state = new PartitionState(store);
    assertThat(state.appliedOffset("outbound", 3)).isEqualTo(41);
    assertThat(state.appliedOffset("delivery-events", 3)).isEqualTo(12);
    assertThat(state.appliedOffset("outbound", 4)).isEqualTo(-1);
    assertThat(state.messageClock()).isEqualTo(123_456);
  }

  @Test
  void theChangesOfEveryTransactionRestoreAnIdenticalStore(@TempDir Path otherDir) {
    List<List<StoreChange>> changelog = new ArrayList<>();
    state.putMessage("alice", 1, expiring("a1", 10_000));
    state.putMessage("alice", 2, expiring("a2", 60_000));
    state.putMessage("bob", 1, message("b1"));
    state.putId("alice", "a1", 1_000);
    state.putUser("alice", UserState.newBuilder().setLastSeq(2).build());
    state.appliedOffset("outbound", 3, 41);
    changelog.add(write(state.cut()));
    state.putMessage("alice", 3, expiring("a3", 60_000));
    state.deleteMessage("alice", state.queued("alice", 1, 1, 1).get(0));
    state.putUser("alice", UserState.newBuilder().setLastSeq(3).setPurgedThrough(1).build());
    state.appliedOffset("outbound", 3, 42);
    changelog.add(write(state.cut()));
    state.expired(70_000, 100).forEach(e -> state.deleteMessage(e.userId(), e.message()));
    changelog.add(write(state.cut()));

    try (OfflineStore copy = OfflineStore.open(otherDir)) {
      long offset = 0;
      for (List<StoreChange> changes : changelog) {
        offset += changes.size();
        copy.restore(changes, offset, 5_000);
      }
      assertThat(copy.changelogPosition()).isEqualTo(offset);
      assertThat(copy.changelogPositionAtMs()).isEqualTo(5_000);
      for (Column column : List.of(Column.MESSAGES, Column.USERS, Column.IDS, Column.ID_EXPIRY,
          Column.EXPIRY)) {
        assertThat(entries(copy, column)).as(column.familyName).isEqualTo(entries(store, column));
      }
      assertThat(copy.appliedOffset("outbound", 3)).isEqualTo(42);
      assertThat(copy.userState("alice").getLastSeq()).isEqualTo(3);
      assertThat(copy.readAfter("bob", 0, 10)).hasSize(1);
    }
  }

  @Test
  void aTransactionCarriesTheNewestChangePerKeyButNotTheIndexes() {
    state.putUser("alice", UserState.newBuilder().setLastSeq(1).build());
    state.putMessage("alice", 1, expiring("m1", 60_000));
    state.putUser("alice", UserState.newBuilder().setLastSeq(2).build());
    PartitionState.Transaction t = state.cut();

    assertThat(t.changes()).extracting(StoreChange::family)
        .containsExactlyInAnyOrder(StoreChange.Family.USERS, StoreChange.Family.MESSAGES);
    assertThat(t.changes()).filteredOn(c -> c.family() == StoreChange.Family.USERS)
        .singleElement().extracting(c -> parseUser(c.value()).getLastSeq()).isEqualTo(2L);
    assertThat(state.pendingChanges()).as("the next transaction is empty").isZero();
    assertThat(t.size()).isEqualTo(3); // user, message, expiry index entry
  }

  @Test
  void aMessageQueuedAndRemovedInOneTransactionLeavesNothingToLogOrWrite() {
    state.putMessage("alice", 1, expiring("brief", 60_000));
    state.putMessage("alice", 2, expiring("kept", 60_000));
    state.deleteMessage("alice", state.queued("alice", 1, 1, 1).get(0));
    PartitionState.Transaction first = state.cut();

    assertThat(first.changes()).extracting(c -> Keys.seqOf(c.key())).containsExactly(2L);
    write(first);
    assertThat(entries(store, Column.MESSAGES)).hasSize(1);
    assertThat(entries(store, Column.EXPIRY)).hasSize(1);

    state.deleteMessage("alice", state.queued("alice", 2, 2, 1).get(0));
    assertThat(state.cut().changes()).as("queued in an earlier transaction: a tombstone")
        .singleElement().satisfies(c -> assertThat(c.isDelete()).isTrue());
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
  void writtenRefusesATransactionNotWrittenYet() {
    state.putMessage("alice", 1, message("m1"));
    PartitionState.Transaction t = state.cut();
    assertThatThrownBy(() -> state.written(t)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("not written");
  }

  @Test
  void rejectsAnEmptyUserId() {
    assertThatThrownBy(() -> state.putMessage("", 1, message("x")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("userId: 0 bytes");
    assertThatThrownBy(() -> state.putUser("", UserState.getDefaultInstance()))
        .isInstanceOf(IllegalArgumentException.class);
  }

  /** Writes the transaction as if the changelog held it; returns what the changelog got. */
  private List<StoreChange> write(PartitionState.Transaction t) {
    List<StoreChange> changes = t.changes();
    t.writeLocally(store.changelogPosition() + changes.size(), 0);
    state.written(t);
    return changes;
  }

  private static UserState parseUser(byte[] value) {
    return OfflineStore.parseUser("alice", value);
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

  /** Every key and value of the column in the store, in hex, in key order. */
  private static List<String> entries(OfflineStore store, Column column) {
    return store.scan(column, new byte[0], null, Integer.MAX_VALUE).stream()
        .map(e -> HexFormat.of().formatHex(e.key()) + "=" + HexFormat.of().formatHex(e.value()))
        .toList();
  }

  private static List<String> ids(List<StoredMessage> messages) {
    return messages.stream().map(m -> m.message().getMessageId()).toList();
  }

  private static List<Long> seqs(List<StoredMessage> messages) {
    return messages.stream().map(StoredMessage::seq).toList();
  }
}
