package io.homing.store;

import com.google.protobuf.InvalidProtocolBufferException;
import io.homing.api.v1.Message;
import io.homing.store.StoreChange.Family;
import io.homing.store.v1.UserState;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * Per-user offline queues on RocksDB: each user's messages under dense, increasing seqs, the user's
 * per-device ack cursors, the Kafka offset up to which each partition's records are applied, and
 * the message ids accepted recently (idempotency keys, with an index by time to expire them), and
 * an index of messages by the time their TTL ends.
 *
 * <p>All changes go through a {@link StoreBatch}, which commits as one atomic {@code WriteBatch}: a
 * message, the user state that assigned its seq and the applied offset of the record that carried
 * it become durable together, or not at all. That is what lets delivery-core skip records at or
 * below {@link #appliedOffset} after a crash and assign exactly the same seqs again.
 *
 * <p>A store can be rebuilt elsewhere from the {@link StoreChange}s of its batches (its
 * changelog): {@link #restore} applies them, and {@link #changelogPosition} tells where a restore
 * continues.
 *
 * <p>Thread safety: reads may run on any thread. Batches must not interleave for the same users;
 * delivery-core guarantees that by applying each partition on one thread.
 */
public final class OfflineStore implements AutoCloseable {
  static {
    RocksDB.loadLibrary();
  }

  private final DBOptions dbOptions;
  private final ColumnFamilyOptions cfOptions;
  private final WriteOptions writeOptions;
  private final RocksDB db;
  private final List<ColumnFamilyHandle> handles;
  final ColumnFamilyHandle messages;
  final ColumnFamilyHandle users;
  final ColumnFamilyHandle offsets;
  final ColumnFamilyHandle ids;
  final ColumnFamilyHandle idExpiry;
  final ColumnFamilyHandle expiry;
  private boolean closed;

  private OfflineStore(
      DBOptions dbOptions,
      ColumnFamilyOptions cfOptions,
      RocksDB db,
      List<ColumnFamilyHandle> handles) {
    this.dbOptions = dbOptions;
    this.cfOptions = cfOptions;
    this.writeOptions = new WriteOptions();
    this.db = db;
    this.handles = handles;
    this.messages = handles.get(1);
    this.users = handles.get(2);
    this.offsets = handles.get(3);
    this.ids = handles.get(4);
    this.idExpiry = handles.get(5);
    this.expiry = handles.get(6);
  }

  /** Opens the store in {@code directory}, creating it when missing. */
  public static OfflineStore open(Path directory) {
    DBOptions dbOptions =
        new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true);
    ColumnFamilyOptions cfOptions = new ColumnFamilyOptions();
    List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
    descriptors.add(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, cfOptions));
    for (String name : List.of("messages", "users", "offsets", "ids", "id-expiry", "expiry")) {
      descriptors.add(
          new ColumnFamilyDescriptor(name.getBytes(StandardCharsets.UTF_8), cfOptions));
    }
    List<ColumnFamilyHandle> handles = new ArrayList<>();
    try {
      Files.createDirectories(directory);
      RocksDB db = RocksDB.open(dbOptions, directory.toString(), descriptors, handles);
      return new OfflineStore(dbOptions, cfOptions, db, handles);
    } catch (Exception e) {
      cfOptions.close();
      dbOptions.close();
      throw new StoreException("cannot open the offline store at " + directory, e);
    }
  }

  /** A new batch of changes; nothing is visible until {@link StoreBatch#commit()}. */
  public StoreBatch newBatch() {
    return new StoreBatch(this);
  }

  /** The user's committed state; the default instance for a user the store has never seen. */
  public UserState userState(String userId) {
    byte[] value = get(users, Keys.user(userId));
    if (value == null) {
      return UserState.getDefaultInstance();
    }
    try {
      return UserState.parseFrom(value);
    } catch (InvalidProtocolBufferException e) {
      throw new StoreException("corrupt state of user " + userId, e);
    }
  }

  /**
   * Up to {@code limit} of the user's queued messages with seq greater than {@code afterSeq}, in
   * seq order.
   */
  public List<StoredMessage> readAfter(String userId, long afterSeq, int limit) {
    if (limit <= 0) {
      throw new IllegalArgumentException("limit: " + limit + " (expected: > 0)");
    }
    byte[] from = Keys.message(userId, Math.max(afterSeq + 1, 1));
    List<StoredMessage> result = new ArrayList<>(Math.min(limit, 1024));
    try (Slice upper = new Slice(Keys.messageUpperBound(userId));
        ReadOptions options = new ReadOptions().setIterateUpperBound(upper);
        RocksIterator it = db.newIterator(messages, options)) {
      for (it.seek(from); it.isValid() && result.size() < limit; it.next()) {
        result.add(new StoredMessage(Keys.seqOf(it.key()), Message.parseFrom(it.value())));
      }
      it.status();
    } catch (RocksDBException | InvalidProtocolBufferException e) {
      throw new StoreException("cannot read the queue of user " + userId, e);
    }
    return result;
  }

  /** The highest offset of the partition whose record is applied here; -1 when none is. */
  public long appliedOffset(String topic, int partition) {
    byte[] value = get(offsets, Keys.offset(topic, partition));
    return value == null ? -1 : Keys.longOf(value);
  }

  /** The changelog offset a restore of this store continues from; 0 for a new store. */
  public long changelogPosition() {
    byte[] value = get(offsets, Keys.CHANGELOG_POSITION);
    return value == null ? 0 : Keys.longOf(value);
  }

  /**
   * When the store last caught up with its changelog (a batch logged, or a restore), in ms since
   * the epoch; 0 for a new store. Deletes logged since are certain to be still in the changelog
   * only while they are younger than its tombstone retention.
   */
  public long changelogPositionAtMs() {
    byte[] value = get(offsets, Keys.CHANGELOG_POSITION);
    return value == null ? 0 : ByteBuffer.wrap(value, 8, 8).getLong();
  }

  /**
   * Applies changes read from the store's changelog, in log order, and records that the changelog
   * is applied up to {@code nextOffset} (exclusive) as of {@code atMs}, in one atomic write. The
   * indexes by time are derived from the values: a restored message expires when its TTL ends, a
   * restored message id is forgotten after its window, as in the store that logged them.
   */
  public void restore(List<StoreChange> changes, long nextOffset, long atMs) {
    Map<ByteBuffer, byte[]> restoredMessages = new HashMap<>();
    try (WriteBatch batch = new WriteBatch()) {
      for (StoreChange change : changes) {
        byte[] key = change.key();
        ColumnFamilyHandle family = handleOf(change.family());
        if (change.family() == Family.MESSAGES) {
          ByteBuffer id = ByteBuffer.wrap(key);
          byte[] previous = restoredMessages.containsKey(id)
              ? restoredMessages.get(id) : get(messages, key);
          if (previous != null) {
            long expiresAt = StoreBatch.expiresAt(StoreBatch.parse(key, previous));
            if (expiresAt > 0) {
              batch.delete(expiry, Keys.expiry(expiresAt, key));
            }
          }
          if (!change.isDelete()) {
            long expiresAt = StoreBatch.expiresAt(StoreBatch.parse(key, change.value()));
            if (expiresAt > 0) {
              batch.put(expiry, Keys.expiry(expiresAt, key), new byte[0]);
            }
          }
          restoredMessages.put(id, change.value());
        } else if (change.family() == Family.IDS && !change.isDelete()) {
          batch.put(idExpiry, Keys.idExpiry(Keys.longOf(change.value()), key), new byte[0]);
        }
        if (change.isDelete()) {
          batch.delete(family, key);
        } else {
          batch.put(family, key, change.value());
        }
      }
      batch.put(offsets, Keys.CHANGELOG_POSITION, Keys.changelogPosition(nextOffset, atMs));
      write(batch);
    } catch (RocksDBException e) {
      throw new StoreException("cannot restore " + changes.size() + " changes", e);
    }
  }

  /** The logged family a column family holds; {@code null} for the derived indexes. */
  Family familyOf(ColumnFamilyHandle handle) {
    if (handle == messages) {
      return Family.MESSAGES;
    } else if (handle == users) {
      return Family.USERS;
    } else if (handle == ids) {
      return Family.IDS;
    } else if (handle == offsets) {
      return Family.OFFSETS;
    }
    return null;
  }

  private ColumnFamilyHandle handleOf(Family family) {
    return switch (family) {
      case MESSAGES -> messages;
      case USERS -> users;
      case IDS -> ids;
      case OFFSETS -> offsets;
    };
  }

  RocksIterator iterator(ColumnFamilyHandle family) {
    return db.newIterator(family);
  }

  RocksIterator iterator(ColumnFamilyHandle family, ReadOptions options) {
    return db.newIterator(family, options);
  }

  byte[] get(ColumnFamilyHandle family, byte[] key) {
    try {
      return db.get(family, key);
    } catch (RocksDBException e) {
      throw new StoreException("cannot read key " + Arrays.toString(key), e);
    }
  }

  void write(WriteBatch batch) {
    try {
      db.write(writeOptions, batch);
    } catch (RocksDBException e) {
      throw new StoreException("cannot write a batch of " + batch.count() + " changes", e);
    }
  }

  /**
   * Flushes and closes the database, then its handles and options, in that order. Idempotent.
   * Must not race with reads or batches still in use.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    handles.forEach(ColumnFamilyHandle::close);
    db.close();
    writeOptions.close();
    cfOptions.close();
    dbOptions.close();
  }
}
