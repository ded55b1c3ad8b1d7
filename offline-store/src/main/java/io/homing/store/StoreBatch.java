package io.homing.store;

import com.google.protobuf.InvalidProtocolBufferException;
import io.homing.api.v1.Message;
import io.homing.store.StoreChange.Family;
import io.homing.store.v1.UserState;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.RocksDBException;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;
import org.rocksdb.WriteBatch;

/**
 * Changes to the store that become durable together on {@link #commit()}. Reads inside the batch
 * see its own pending changes, so seqs assigned in one batch are dense.
 *
 * <p>A batch that is replicated first {@link #seal seals}: that ends its changes and hands out
 * what they are, as {@link StoreChange}s for the changelog, the newest per key; once the
 * changelog holds them, {@link #changelogPosition} records how far it does and {@link #commit}
 * writes the batch.
 *
 * <p>Not thread-safe: one batch belongs to one thread. {@link #close()} discards an uncommitted
 * batch.
 */
public final class StoreBatch implements AutoCloseable {
  private final OfflineStore store;
  private final WriteBatch batch = new WriteBatch();
  private final Map<String, UserState.Builder> dirtyUsers = new LinkedHashMap<>();
  private final Map<ByteBuffer, Long> pendingIds = new HashMap<>();
  /** Per user, the messages this batch appended: not visible to iterators yet. */
  private final Map<String, TreeMap<Long, Pending>> pendingMessages = new HashMap<>();
  /** The newest change per changelog key, in the order keys were first changed. */
  private final Map<ByteBuffer, StoreChange> changes = new LinkedHashMap<>();
  private boolean sealed;
  private boolean committed;

  /** A message appended by this batch: its size, and when its TTL ends (0: never). */
  private record Pending(int size, long expiresAt) {}

  StoreBatch(OfflineStore store) {
    this.store = store;
  }

  /**
   * Queues the message for the user under the user's next seq, and returns that seq. A message
   * with a TTL is indexed by the time it ends, for {@link #expireMessages}.
   */
  public long append(String userId, Message message) {
    UserState.Builder state = state(userId);
    long seq = state.getLastSeq() + 1;
    byte[] value = message.toByteArray();
    byte[] key = Keys.message(userId, seq);
    state.setLastSeq(seq)
        .setQueuedCount(state.getQueuedCount() + 1)
        .setQueuedBytes(state.getQueuedBytes() + value.length);
    put(store.messages, key, value);
    long expiresAt = expiresAt(message);
    pendingMessages.computeIfAbsent(userId, u -> new TreeMap<>())
        .put(seq, new Pending(value.length, expiresAt));
    if (expiresAt > 0) {
      put(store.expiry, Keys.expiry(expiresAt, key), new byte[0]);
    }
    return seq;
  }

  /**
   * Deletes the user's oldest queued messages until {@code count} more messages of {@code bytes}
   * in all fit under the caps, as the drop-oldest policy does for a full queue. Returns how many
   * it deleted. Every device's cursor stays; what they had not received is gone for them.
   */
  public int dropOldest(String userId, int count, long bytes, long maxCount, long maxBytes) {
    UserState.Builder state = state(userId);
    int dropped = 0;
    try (Slice upper = new Slice(Keys.messageUpperBound(userId));
        ReadOptions options = new ReadOptions().setIterateUpperBound(upper);
        RocksIterator it = store.iterator(store.messages, options)) {
      for (it.seek(Keys.message(userId, state.getPurgedThrough() + 1));
          it.isValid()
              && (state.getQueuedCount() + count > maxCount
                  || state.getQueuedBytes() + bytes > maxBytes);
          it.next()) {
        deleteMessage(it.key(), it.value());
        state.setQueuedCount(state.getQueuedCount() - 1)
            .setQueuedBytes(state.getQueuedBytes() - it.value().length)
            .setPurgedThrough(Keys.seqOf(it.key()));
        dropped++;
      }
      it.status();
    } catch (RocksDBException e) {
      throw new StoreException("cannot drop messages of user " + userId, e);
    }
    // Then what this batch appended itself, oldest first, so the caps hold within a batch too.
    TreeMap<Long, Pending> pending = pendingMessages.getOrDefault(userId, new TreeMap<>());
    while (!pending.isEmpty() && (state.getQueuedCount() + count > maxCount
        || state.getQueuedBytes() + bytes > maxBytes)) {
      Map.Entry<Long, Pending> oldest = pending.pollFirstEntry();
      deletePending(userId, oldest.getKey(), oldest.getValue(), state);
      state.setPurgedThrough(oldest.getKey());
      dropped++;
    }
    return dropped;
  }

  /**
   * Deletes up to {@code limit} messages whose TTL ended at or before {@code nowMs}, and forgets
   * index entries of messages already gone. Returns the messages deleted, per user.
   */
  public Map<String, Integer> expireMessages(long nowMs, int limit) {
    Map<String, Integer> expired = new HashMap<>();
    int visited = 0;
    try (RocksIterator it = store.iterator(store.expiry)) {
      for (it.seekToFirst(); it.isValid() && visited < limit; it.next()) {
        byte[] indexKey = it.key();
        if (Keys.longOf(indexKey) > nowMs) {
          break;
        }
        visited++;
        delete(store.expiry, indexKey);
        byte[] messageKey = Arrays.copyOfRange(indexKey, 8, indexKey.length);
        byte[] value = store.get(store.messages, messageKey);
        if (value == null) {
          continue; // acked or dropped before it expired
        }
        String userId = Keys.userOf(messageKey);
        UserState.Builder state = state(userId);
        delete(store.messages, messageKey);
        state.setQueuedCount(state.getQueuedCount() - 1)
            .setQueuedBytes(state.getQueuedBytes() - value.length);
        expired.merge(userId, 1, Integer::sum);
      }
      it.status();
    } catch (RocksDBException e) {
      throw new StoreException("cannot expire messages", e);
    }
    return expired;
  }

  /**
   * Records that the device holds every message up to {@code seq} (clamped to the user's last
   * seq; a cursor never moves back) and was seen at {@code atMs}, then deletes what every known
   * device of the user has acked. Returns the device's cursor after the change.
   */
  public long ack(String userId, String deviceId, long seq, long atMs) {
    UserState.Builder state = state(userId);
    long current = state.getDeviceAckedOrDefault(deviceId, 0L);
    long cursor = Math.max(current, Math.min(seq, state.getLastSeq()));
    if (cursor != current || !state.containsDeviceAcked(deviceId)) {
      state.putDeviceAcked(deviceId, cursor);
    }
    if (atMs > state.getDeviceSeenMsOrDefault(deviceId, Long.MIN_VALUE)) {
      state.putDeviceSeenMs(deviceId, atMs);
    }
    purge(userId, state);
    return cursor;
  }

  /** Records that the device has an open connection, {@code connectionId}. */
  public void connected(String userId, String deviceId, String connectionId) {
    state(userId).putDeviceConnection(deviceId, connectionId);
  }

  /** Records that the device's connection closed, if it is the one recorded. */
  public void disconnected(String userId, String deviceId, String connectionId) {
    UserState.Builder state = state(userId);
    if (connectionId.equals(state.getDeviceConnectionOrDefault(deviceId, null))) {
      state.removeDeviceConnection(deviceId);
    }
  }

  /**
   * Forgets the user's devices last seen before {@code unseenBeforeMs}, then the least recently
   * seen ones without an open connection while more than {@code maxDevices} remain (connected
   * devices may exceed the cap; they are never cut off mid-stream). Forgotten devices no longer
   * hold messages back, which are deleted once the remaining devices acked them. A device with
   * no time recorded counts as seen now. Returns the devices forgotten.
   */
  public List<String> retainDevices(String userId, long unseenBeforeMs, int maxDevices, long nowMs) {
    UserState.Builder state = state(userId);
    for (String device : state.getDeviceAckedMap().keySet()) {
      if (!state.containsDeviceSeenMs(device)) {
        state.putDeviceSeenMs(device, nowMs);
      }
    }
    List<Map.Entry<String, Long>> byAge = new ArrayList<>(state.getDeviceSeenMsMap().entrySet());
    byAge.sort(Map.Entry.comparingByValue());
    List<String> forgotten = new ArrayList<>();
    int remaining = byAge.size();
    for (Map.Entry<String, Long> device : byAge) {
      boolean stale = device.getValue() < unseenBeforeMs;
      boolean overCap = remaining > maxDevices && !state.containsDeviceConnection(device.getKey());
      if (stale || overCap) {
        state.removeDeviceAcked(device.getKey());
        state.removeDeviceSeenMs(device.getKey());
        state.removeDeviceConnection(device.getKey());
        forgotten.add(device.getKey());
        remaining--;
      }
    }
    if (!forgotten.isEmpty()) {
      purge(userId, state);
    }
    return forgotten;
  }

  /** The user's state as this batch sees it (its own pending changes included). */
  public UserState userState(String userId) {
    UserState.Builder dirty = dirtyUsers.get(userId);
    return dirty != null ? dirty.build() : store.userState(userId);
  }

  /**
   * Whether the user's message id was accepted at or after {@code sinceMs}, by this batch or an
   * earlier one. Ids older than that no longer count, even where not yet expired.
   */
  public boolean seenId(String userId, String messageId, long sinceMs) {
    byte[] key = Keys.id(userId, messageId);
    Long at = pendingIds.get(ByteBuffer.wrap(key));
    if (at == null) {
      byte[] stored = store.get(store.ids, key);
      at = stored == null ? null : Keys.longOf(stored);
    }
    return at != null && at >= sinceMs;
  }

  /** Remembers the user's message id as accepted at {@code atMs}, until {@link #expireIds}. */
  public void rememberId(String userId, String messageId, long atMs) {
    byte[] key = Keys.id(userId, messageId);
    pendingIds.put(ByteBuffer.wrap(key), atMs);
    put(store.ids, key, Keys.longValue(atMs));
    put(store.idExpiry, Keys.idExpiry(atMs, key), new byte[0]);
  }

  /**
   * Forgets up to {@code limit} message ids accepted in [{@code fromMs}, {@code beforeMs})
   * (committed ones; an id remembered again since keeps its newer time). Returns how many index
   * entries it removed. Starting from where the previous sweep stopped, rather than from the
   * first key, saves reading over the deletions it left behind.
   */
  public int expireIds(long fromMs, long beforeMs, int limit) {
    int removed = 0;
    try (RocksIterator it = store.iterator(store.idExpiry)) {
      for (it.seek(Keys.longValue(Math.max(0, fromMs))); it.isValid() && removed < limit;
          it.next()) {
        byte[] expiryKey = it.key();
        long at = Keys.longOf(expiryKey);
        if (at >= beforeMs) {
          break;
        }
        byte[] idKey = Keys.idOfExpiry(expiryKey);
        byte[] current = store.get(store.ids, idKey);
        if (current != null && Keys.longOf(current) == at
            && !pendingIds.containsKey(ByteBuffer.wrap(idKey))) {
          delete(store.ids, idKey);
        }
        delete(store.idExpiry, expiryKey);
        removed++;
      }
      it.status();
    } catch (RocksDBException e) {
      throw new StoreException("cannot expire message ids", e);
    }
    return removed;
  }

  /** Records that every record of the partition up to {@code offset} is applied by this batch. */
  public void appliedOffset(String topic, int partition, long offset) {
    put(store.offsets, Keys.offset(topic, partition), Keys.longValue(offset));
  }

  /**
   * Ends the batch's changes and returns them, the newest per key, for the changelog. Idempotent;
   * the batch takes no more changes afterwards.
   */
  public List<StoreChange> seal() {
    if (!sealed) {
      for (Map.Entry<String, UserState.Builder> e : dirtyUsers.entrySet()) {
        put(store.users, Keys.user(e.getKey()), e.getValue().build().toByteArray());
      }
      sealed = true;
    }
    return List.copyOf(changes.values());
  }

  /**
   * Records that the store's changelog holds every change up to {@code nextOffset} (exclusive) as
   * of {@code atMs}: where a restore of this store continues. Not itself a logged change.
   */
  public void changelogPosition(long nextOffset, long atMs) {
    stage(() -> batch.put(store.offsets, Keys.CHANGELOG_POSITION,
        Keys.changelogPosition(nextOffset, atMs)));
  }

  /** Seals the batch and writes every change atomically. A batch commits at most once. */
  public void commit() {
    if (committed) {
      throw new IllegalStateException("batch already committed");
    }
    seal();
    committed = true;
    store.write(batch);
  }

  @Override
  public void close() {
    batch.close();
  }

  private void purge(String userId, UserState.Builder state) {
    long minAcked = state.getDeviceAckedMap().values().stream().mapToLong(Long::longValue).min()
        .orElse(0L);
    if (minAcked <= state.getPurgedThrough()) {
      return;
    }
    // Point deletes, not deleteRange: every iterator pays for the range tombstones in the
    // memtable, and one per ack made each read slower than the last.
    try (Slice upper = new Slice(Keys.message(userId, minAcked + 1));
        ReadOptions options = new ReadOptions().setIterateUpperBound(upper);
        RocksIterator it = store.iterator(store.messages, options)) {
      for (it.seek(Keys.message(userId, state.getPurgedThrough() + 1)); it.isValid(); it.next()) {
        state.setQueuedCount(state.getQueuedCount() - 1)
            .setQueuedBytes(state.getQueuedBytes() - it.value().length);
        deleteMessage(it.key(), it.value());
      }
      it.status();
    } catch (RocksDBException e) {
      throw new StoreException("cannot delete acked messages of user " + userId, e);
    }
    TreeMap<Long, Pending> pending = pendingMessages.get(userId);
    if (pending != null) {
      var acked = pending.subMap(state.getPurgedThrough(), false, minAcked, true);
      acked.forEach((seq, message) -> deletePending(userId, seq, message, state));
      acked.clear();
    }
    state.setPurgedThrough(minAcked);
  }

  private UserState.Builder state(String userId) {
    if (sealed) {
      throw new IllegalStateException("batch sealed: it takes no more changes");
    }
    UserState.Builder state = dirtyUsers.get(userId);
    if (state == null) {
      state = store.userState(userId).toBuilder();
      dirtyUsers.put(userId, state);
    }
    return state;
  }

  /** Deletes a queued message and its entry in the index by TTL. */
  private void deleteMessage(byte[] key, byte[] value) {
    delete(store.messages, key);
    long expiresAt = expiresAt(parse(key, value));
    if (expiresAt > 0) {
      delete(store.expiry, Keys.expiry(expiresAt, key));
    }
  }

  /** Deletes a message this batch appended, its entry in the index by TTL, and its count. */
  private void deletePending(String userId, long seq, Pending message, UserState.Builder state) {
    byte[] key = Keys.message(userId, seq);
    delete(store.messages, key);
    if (message.expiresAt() > 0) {
      delete(store.expiry, Keys.expiry(message.expiresAt(), key));
    }
    state.setQueuedCount(state.getQueuedCount() - 1)
        .setQueuedBytes(state.getQueuedBytes() - message.size());
  }

  /** When the message's TTL ends, in ms since the epoch; 0 when it has none. */
  static long expiresAt(Message message) {
    return message.getTtlMs() > 0 ? message.getCreatedAtMs() + message.getTtlMs() : 0;
  }

  static Message parse(byte[] key, byte[] value) {
    try {
      return Message.parseFrom(value);
    } catch (InvalidProtocolBufferException e) {
      throw new StoreException("corrupt message of user " + Keys.userOf(key) + " seq "
          + Keys.seqOf(key), e);
    }
  }

  private void delete(ColumnFamilyHandle family, byte[] key) {
    log(family, key, null);
    stage(() -> batch.delete(family, key));
  }

  private void put(ColumnFamilyHandle family, byte[] key, byte[] value) {
    log(family, key, value);
    stage(() -> batch.put(family, key, value));
  }

  private void log(ColumnFamilyHandle handle, byte[] key, byte[] value) {
    Family family = store.familyOf(handle);
    if (family != null) {
      if (sealed) {
        throw new IllegalStateException("batch sealed: it takes no more changes");
      }
      StoreChange change = new StoreChange(family, key, value);
      changes.put(ByteBuffer.wrap(change.changelogKey()), change);
    }
  }

  private interface Staging {
    void run() throws RocksDBException;
  }

  private static void stage(Staging write) {
    try {
      write.run();
    } catch (RocksDBException e) {
      throw new StoreException("cannot stage a change", e);
    }
  }
}
