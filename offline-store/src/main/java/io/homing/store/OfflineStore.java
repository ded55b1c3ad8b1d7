package io.homing.store;

import com.google.protobuf.InvalidProtocolBufferException;
import io.homing.api.v1.Message;
import io.homing.store.v1.UserState;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;
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

  void write(org.rocksdb.WriteBatch batch) {
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
