package io.homing.store;

import io.homing.api.v1.DeliveryReceipt;
import io.homing.api.v1.Message;
import io.homing.api.v1.NotificationRequest;
import io.homing.store.v1.PushRegistration;
import io.homing.store.v1.UserState;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;

/**
 * One partition's queues as its pipeline sees them: the committed {@link OfflineStore} with the
 * changes not committed yet laid over it.
 *
 * <p>A change is made here at once and read back at once, so the pipeline decides and delivers
 * without waiting for anything durable. Every change belongs to the open {@link Transaction};
 * {@link #cut()} closes it and hands it out. Its changes go to the changelog; once the changelog
 * holds them, {@link Transaction#writeLocally} writes them to the store in one atomic batch with
 * the changelog position, and {@link #written} stops laying them over the store. The store thus
 * only ever holds what its changelog holds: after a crash it is behind its changelog, never
 * ahead, and what was pending is decided again from the input logs.
 *
 * <p>Threads: everything runs on the partition's pipeline thread, except
 * {@link Transaction#writeLocally}, which may run on another thread (the one committing the
 * changelog) while the pipeline goes on: until {@link #written}, reads still find that
 * transaction's changes here.
 */
public final class PartitionState implements AutoCloseable {
  private static final byte[] EMPTY = new byte[0];

  /** A change laid over the store: the new value (null: deleted) and its transaction. */
  private record Pending(byte[] value, long transaction) {}

  private record PendingUser(UserState state, long transaction) {}

  /** How many committed user states stay decoded in memory, the most recently used. */
  static final int CACHED_USERS = 16_384;
  /** A range of seqs this short is read key by key: cheaper than a RocksDB iterator. */
  private static final int POINT_READS_UP_TO = 16;

  private final OfflineStore store;
  private final EnumMap<Column, TreeMap<byte[], Pending>> pending = new EnumMap<>(Column.class);
  private final Map<String, PendingUser> users = new HashMap<>();
  /** Committed states, as the store holds them; only this state writes users, so they stay so. */
  private final Map<String, UserState> cachedUsers =
      new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, UserState> eldest) {
          return size() > CACHED_USERS;
        }
      };
  private Transaction open;

  public PartitionState(OfflineStore store) {
    this.store = store;
    for (Column column : Column.values()) {
      pending.put(column, new TreeMap<>(Arrays::compareUnsigned));
    }
    this.open = new Transaction(store, 1);
  }

  /**
   * About how many messages the store holds as written so far
   * ({@link OfflineStore#estimatedMessages}). Any thread.
   */
  public long estimatedMessages() {
    return store.estimatedMessages();
  }

  // ---- users ----

  /** The user's state; the default instance for a user never seen. */
  public UserState user(String userId) {
    PendingUser user = users.get(userId);
    if (user != null) {
      return user.state();
    }
    return cachedUsers.computeIfAbsent(userId, store::userState);
  }

  public void putUser(String userId, UserState state) {
    Keys.user(userId); // validates the id
    users.put(userId, new PendingUser(state, open.number));
    open.users.put(userId, state);
  }

  // ---- messages ----

  /**
   * Queues the message under ({@code userId}, {@code seq}), indexed by when its TTL ends; returns
   * its size as stored.
   */
  public int putMessage(String userId, long seq, Message message) {
    byte[] key = Keys.message(userId, seq);
    byte[] value = message.toByteArray();
    // A seq is never queued twice, so these keys are new: deleted in the same transaction, they
    // need not reach the changelog or the store at all.
    put(Column.MESSAGES, key, value, true);
    long expiresAt = OfflineStore.expiresAt(message);
    if (expiresAt > 0) {
      put(Column.EXPIRY, Keys.expiry(expiresAt, key), EMPTY, true);
    }
    return value.length;
  }

  /** Deletes a queued message and its entry in the index by TTL. */
  public void deleteMessage(String userId, QueuedMessage message) {
    byte[] key = Keys.message(userId, message.seq());
    put(Column.MESSAGES, key, null);
    if (message.expiresAt() > 0) {
      put(Column.EXPIRY, Keys.expiry(message.expiresAt(), key), null);
    }
  }

  /**
   * Up to {@code limit} of the user's queued messages with seq greater than {@code afterSeq}, in
   * seq order.
   */
  public List<StoredMessage> readAfter(String userId, long afterSeq, int limit) {
    return OfflineStore.readAfter(this::scan, userId, afterSeq, limit);
  }

  /**
   * Up to {@code limit} of the user's queued messages with seq in [{@code fromSeq},
   * {@code throughSeq}], in seq order: what removing them takes.
   */
  public List<QueuedMessage> queued(String userId, long fromSeq, long throughSeq, int limit) {
    List<QueuedMessage> result = new ArrayList<>();
    if (throughSeq < fromSeq) {
      return result;
    }
    if (throughSeq - fromSeq < POINT_READS_UP_TO) {
      for (long seq = fromSeq; seq <= throughSeq && result.size() < limit; seq++) {
        byte[] key = Keys.message(userId, seq);
        byte[] value = get(Column.MESSAGES, key);
        if (value != null) {
          result.add(queuedMessage(key, value));
        }
      }
      return result;
    }
    byte[] to = throughSeq == Long.MAX_VALUE
        ? Keys.messageUpperBound(userId) : Keys.message(userId, throughSeq + 1);
    for (OfflineStore.Entry e : scan(Column.MESSAGES, Keys.message(userId, fromSeq), to, limit)) {
      result.add(queuedMessage(e.key(), e.value()));
    }
    return result;
  }

  /**
   * Up to {@code limit} queued messages whose TTL ended at or before {@code nowMs}, soonest ended
   * first. Index entries of messages removed already are dropped on the way (and count toward
   * the limit, which bounds the work).
   */
  public List<ExpiredMessage> expired(long nowMs, int limit) {
    List<ExpiredMessage> result = new ArrayList<>();
    byte[] to = Keys.longValue(nowMs < Long.MAX_VALUE ? nowMs + 1 : nowMs);
    for (OfflineStore.Entry index : scan(Column.EXPIRY, EMPTY, to, limit)) {
      byte[] messageKey = Arrays.copyOfRange(index.key(), 8, index.key().length);
      byte[] value = get(Column.MESSAGES, messageKey);
      if (value == null) {
        put(Column.EXPIRY, index.key(), null); // removed before it expired
        continue;
      }
      result.add(new ExpiredMessage(Keys.userOf(messageKey), queuedMessage(messageKey, value)));
    }
    return result;
  }

  private static QueuedMessage queuedMessage(byte[] key, byte[] value) {
    return QueuedMessage.of(Keys.seqOf(key), value.length, OfflineStore.parseMessage(key, value));
  }

  // ---- message ids ----

  /** When the user's message id was last accepted, in ms; -1 when it is not remembered. */
  public long idAcceptedAt(String userId, String messageId) {
    byte[] value = get(Column.IDS, Keys.id(userId, messageId));
    return value == null ? -1 : Keys.longOf(value);
  }

  /** What is remembered of the user's message id; null when it is not remembered. */
  public AcceptedId acceptedId(String userId, String messageId) {
    byte[] value = get(Column.IDS, Keys.id(userId, messageId));
    return value == null ? null : Keys.acceptedId(value);
  }

  /** Remembers the user's message id as accepted at {@code atMs}, naming nothing else. */
  public void putId(String userId, String messageId, long atMs) {
    putId(userId, messageId, new AcceptedId(atMs, 0, 0, AcceptedId.Fate.NONE));
  }

  /** Remembers the user's message id as accepted, until {@link #forgetIds}. */
  public void putId(String userId, String messageId, AcceptedId id) {
    byte[] key = Keys.id(userId, messageId);
    put(Column.IDS, key, Keys.acceptedId(id));
    put(Column.ID_EXPIRY, Keys.idExpiry(id.acceptedAtMs(), key), EMPTY);
  }

  /**
   * Records why the message with this id and seq left the queue, if the id is still remembered
   * for that seq (not forgotten, nor accepted again for a later message since).
   */
  public void markId(String userId, String messageId, long seq, AcceptedId.Fate fate) {
    byte[] key = Keys.id(userId, messageId);
    byte[] value = get(Column.IDS, key);
    if (value != null) {
      AcceptedId id = Keys.acceptedId(value);
      if (id.seq() == seq && id.fate() != fate) {
        put(Column.IDS, key, Keys.acceptedId(
            new AcceptedId(id.acceptedAtMs(), id.seq(), id.expiresAtMs(), fate)));
      }
    }
  }

  /**
   * Forgets the message ids accepted in [{@code fromMs}, {@code beforeMs}) — not those accepted
   * again since — visiting at most {@code limit} index entries; returns how many it visited.
   * Starting where the previous sweep stopped, rather than at the first key, saves reading over
   * the deletions it left behind.
   */
  public int forgetIds(long fromMs, long beforeMs, int limit) {
    List<OfflineStore.Entry> index = scan(Column.ID_EXPIRY, Keys.longValue(Math.max(0, fromMs)),
        Keys.longValue(Math.max(0, beforeMs)), limit);
    for (OfflineStore.Entry entry : index) {
      byte[] idKey = Keys.idOfExpiry(entry.key());
      byte[] current = get(Column.IDS, idKey);
      if (current != null && Keys.longOf(current) == Keys.longOf(entry.key())) {
        put(Column.IDS, idKey, null);
      }
      put(Column.ID_EXPIRY, entry.key(), null);
    }
    return index.size();
  }

  // ---- push targets ----

  /** The user's devices with a push target, and their targets, in device id order. */
  public Map<String, PushRegistration> pushTargets(String userId) {
    Map<String, PushRegistration> result = new LinkedHashMap<>();
    for (OfflineStore.Entry e : scan(Column.PUSH, Keys.push(userId, ""),
        Keys.pushUpperBound(userId), Integer.MAX_VALUE)) {
      result.put(Keys.deviceOfPush(e.key()), OfflineStore.parsePush(e.key(), e.value()));
    }
    return result;
  }

  /** The device's push target; null when it has none. */
  public PushRegistration pushTarget(String userId, String deviceId) {
    byte[] key = Keys.push(userId, deviceId);
    byte[] value = get(Column.PUSH, key);
    return value == null ? null : OfflineStore.parsePush(key, value);
  }

  /** Sets the device's push target, replacing the one it had. */
  public void putPushTarget(String userId, String deviceId, PushRegistration registration) {
    put(Column.PUSH, Keys.push(userId, deviceId), registration.toByteArray());
  }

  public void deletePushTarget(String userId, String deviceId) {
    put(Column.PUSH, Keys.push(userId, deviceId), null);
  }

  // ---- receipts and notifications ----

  /**
   * Publishes the receipt with the open transaction: it reaches {@code delivery-receipts} in the
   * Kafka transaction that makes this transaction's changes durable, or not at all.
   */
  public void publish(DeliveryReceipt receipt) {
    open.receipts.add(receipt);
  }

  /**
   * Asks the notifier for the notification with the open transaction: it reaches
   * {@code notifications} in the Kafka transaction that makes this transaction durable, or not at
   * all.
   */
  public void requestNotification(NotificationRequest request) {
    open.notifications.add(request);
  }

  // ---- offsets ----

  /** The highest offset of the partition whose record is applied here; -1 when none is. */
  public long appliedOffset(String topic, int partition) {
    byte[] value = get(Column.OFFSETS, Keys.offset(topic, partition));
    return value == null ? -1 : Keys.longOf(value);
  }

  /** Records that every record of the partition up to {@code offset} is applied. */
  public void appliedOffset(String topic, int partition, long offset) {
    put(Column.OFFSETS, Keys.offset(topic, partition), Keys.longValue(offset));
  }

  /** The newest timestamp of a message record applied here, in ms; 0 before the first. */
  public long messageClock() {
    byte[] value = get(Column.OFFSETS, Keys.MESSAGE_CLOCK);
    return value == null ? 0 : Keys.longOf(value);
  }

  public void messageClock(long ms) {
    put(Column.OFFSETS, Keys.MESSAGE_CLOCK, Keys.longValue(ms));
  }

  // ---- transactions ----

  /** How many changes the open transaction holds (the newest per key). */
  public int pendingChanges() {
    return open.size();
  }

  /** Closes the open transaction and returns it; the changes that follow go into a new one. */
  public Transaction cut() {
    Transaction cut = open;
    open = new Transaction(store, cut.number + 1);
    return cut;
  }

  /**
   * Stops laying the transaction's changes over the store, once {@link Transaction#writeLocally}
   * wrote them there; changes of later transactions to the same keys stay.
   */
  public void written(Transaction transaction) {
    if (!transaction.written) {
      throw new IllegalStateException("transaction " + transaction.number + " not written");
    }
    transaction.changes.forEach((column, changes) -> {
      TreeMap<byte[], Pending> laid = pending.get(column);
      for (ByteBuffer key : changes.keySet()) {
        Pending p = laid.get(key.array());
        if (p != null && p.transaction() == transaction.number) {
          laid.remove(key.array());
        }
      }
    });
    transaction.users.forEach((userId, state) -> {
      PendingUser p = users.get(userId);
      if (p != null && p.transaction() == transaction.number) {
        users.remove(userId);
      }
      cachedUsers.put(userId, state);
    });
  }

  /**
   * Forgets every change not written yet and closes the store. What was pending is lost here, not
   * for the partition: it was never durable, and whoever applies the partition next decides it
   * again from the input logs. Idempotent.
   */
  @Override
  public void close() {
    pending.values().forEach(TreeMap::clear);
    users.clear();
    cachedUsers.clear();
    store.close();
  }

  private void put(Column column, byte[] key, byte[] value) {
    put(column, key, value, false);
  }

  /**
   * @param creates whether the key is certain not to exist before this change (so a delete in the
   *     same transaction leaves nothing to log or to write)
   */
  private void put(Column column, byte[] key, byte[] value, boolean creates) {
    pending.get(column).put(key, new Pending(value, open.number));
    open.changes.get(column).merge(ByteBuffer.wrap(key), new Change(value, creates),
        (before, now) -> new Change(now.value(), before.createdHere()));
  }

  private byte[] get(Column column, byte[] key) {
    Pending p = pending.get(column).get(key);
    return p != null ? p.value() : store.get(column, key);
  }

  /**
   * Up to {@code limit} entries of the column in [{@code from}, {@code to}), the pending changes
   * merged over the store's: a pending value replaces the stored one, a pending delete hides it.
   * Materialized, so that the caller may change what it read.
   */
  private List<OfflineStore.Entry> scan(Column column, byte[] from, byte[] to, int limit) {
    NavigableMap<byte[], Pending> laid = pending.get(column).subMap(from, true, to, false);
    if (laid.isEmpty()) {
      return store.scan(column, from, to, limit);
    }
    List<OfflineStore.Entry> result = new ArrayList<>();
    Iterator<Map.Entry<byte[], Pending>> over = laid.entrySet().iterator();
    Map.Entry<byte[], Pending> next = over.hasNext() ? over.next() : null;
    try (OfflineStore.Cursor stored = store.cursor(column, from, to)) {
      byte[] storedKey = stored.isValid() ? stored.key() : null;
      while (result.size() < limit && (storedKey != null || next != null)) {
        int order = storedKey == null ? 1
            : next == null ? -1 : Arrays.compareUnsigned(storedKey, next.getKey());
        if (order < 0) {
          result.add(new OfflineStore.Entry(storedKey, stored.value()));
        } else {
          if (next.getValue().value() != null) {
            result.add(new OfflineStore.Entry(next.getKey(), next.getValue().value()));
          }
          next = over.hasNext() ? over.next() : null;
        }
        if (order <= 0) {
          stored.next();
          storedKey = stored.isValid() ? stored.key() : null;
        }
      }
    }
    return result;
  }

  /**
   * A transaction's newest value for a key (null: deleted), and whether the key was created in
   * the transaction: then a delete means it never existed outside it.
   */
  private record Change(byte[] value, boolean createdHere) {
    boolean vanished() {
      return createdHere && value == null;
    }
  }

  /**
   * The changes made between two {@link #cut()}s: the newest per key, for the changelog and then
   * for the store. Filled on the pipeline thread until cut, read-only afterwards.
   */
  public static final class Transaction {
    private final OfflineStore store;
    private final long number;
    private final EnumMap<Column, LinkedHashMap<ByteBuffer, Change>> changes =
        new EnumMap<>(Column.class);
    private final LinkedHashMap<String, UserState> users = new LinkedHashMap<>();
    private final List<DeliveryReceipt> receipts = new ArrayList<>();
    private final List<NotificationRequest> notifications = new ArrayList<>();
    private List<StoreChange> logged;
    private volatile boolean written;

    private Transaction(OfflineStore store, long number) {
      this.store = store;
      this.number = number;
      for (Column column : Column.values()) {
        changes.put(column, new LinkedHashMap<>());
      }
    }

    /**
     * The changelog position of the store before this transaction, for one that leaves the
     * changelog nothing to carry (it only tidied an index). Any one thread, in order.
     */
    public long storedChangelogPosition() {
      return store.changelogPosition();
    }

    /** How many keys it changes, and how many receipts and notification requests it publishes. */
    public int size() {
      int size = users.size() + receipts.size() + notifications.size();
      for (LinkedHashMap<ByteBuffer, Change> c : changes.values()) {
        size += c.size();
      }
      return size;
    }

    public boolean isEmpty() {
      return size() == 0;
    }

    /**
     * Its changes to the store's own data, the newest per key, as the changelog carries them (the
     * indexes by time are left out: a restore derives them).
     */
    public List<StoreChange> changes() {
      if (logged == null) {
        List<StoreChange> list = new ArrayList<>();
        users.forEach((userId, state) -> list.add(
            new StoreChange(StoreChange.Family.USERS, Keys.user(userId), state.toByteArray())));
        changes.forEach((column, c) -> {
          if (column.family != null) {
            c.forEach((key, change) -> {
              if (!change.vanished()) {
                list.add(new StoreChange(column.family, key.array(), change.value()));
              }
            });
          }
        });
        logged = List.copyOf(list);
      }
      return logged;
    }

    /** The receipts it publishes, in the order they were made. */
    public List<DeliveryReceipt> receipts() {
      return receipts;
    }

    /** The notification requests it publishes, in the order they were made. */
    public List<NotificationRequest> notifications() {
      return notifications;
    }

    /**
     * Writes every change to the store, with the indexes and the changelog position (the next
     * changelog offset after the transaction's records, and when), in one atomic batch. Call
     * once the changelog holds the transaction; then {@link PartitionState#written} on the
     * pipeline thread. Any one thread.
     */
    public void writeLocally(long changelogNextOffset, long atMs) {
      if (written) {
        throw new IllegalStateException("transaction " + number + " already written");
      }
      try (WriteBatch batch = new WriteBatch()) {
        for (StoreChange change : changes()) {
          if (change.family() == StoreChange.Family.USERS) {
            batch.put(store.handle(Column.USERS), change.key(), change.value());
          }
        }
        for (Map.Entry<Column, LinkedHashMap<ByteBuffer, Change>> c : changes.entrySet()) {
          for (Map.Entry<ByteBuffer, Change> e : c.getValue().entrySet()) {
            Change change = e.getValue();
            if (change.vanished()) {
              continue;
            }
            if (change.value() == null) {
              batch.delete(store.handle(c.getKey()), e.getKey().array());
            } else {
              batch.put(store.handle(c.getKey()), e.getKey().array(), change.value());
            }
          }
        }
        batch.put(store.handle(Column.OFFSETS), Keys.CHANGELOG_POSITION,
            Keys.changelogPosition(changelogNextOffset, atMs));
        store.write(batch);
      } catch (RocksDBException e) {
        throw new StoreException("cannot stage transaction " + number, e);
      }
      written = true;
    }
  }
}
