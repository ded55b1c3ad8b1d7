package io.homing.store;

import com.google.protobuf.InvalidProtocolBufferException;
import io.homing.api.v1.Message;
import io.homing.store.v1.PushRegistration;
import io.homing.store.v1.UserState;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
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
 * The committed queues of one partition, on RocksDB: each user's messages under dense, increasing
 * seqs, the user's per-device ack cursors, the Kafka offset up to which each partition's records
 * are applied, the message ids accepted recently (idempotency keys, with an index by time to
 * expire them), the devices' push targets, and an index of messages by the time their TTL ends.
 * Key layout: {@link Keys}.
 *
 * <p>Changes reach it only through a {@link PartitionState} transaction, written in one atomic
 * {@code WriteBatch} once the store's changelog holds it, or through {@link #restore} from that
 * changelog: the store is never ahead of its changelog. {@link #changelogPosition} tells where a
 * restore continues.
 *
 * <p>Thread safety: reads and writes may run on any thread (RocksDB is thread-safe); see
 * {@link PartitionState} for who writes when.
 */
public final class OfflineStore implements AutoCloseable {
  static {
    RocksDB.loadLibrary();
  }

  private final DBOptions dbOptions;
  private final ColumnFamilyOptions cfOptions;
  private final BloomFilter bloom;
  private final WriteOptions writeOptions;
  private final RocksDB db;
  private final List<ColumnFamilyHandle> handles;
  private final EnumMap<Column, ColumnFamilyHandle> columns = new EnumMap<>(Column.class);
  private boolean closed;

  private OfflineStore(
      DBOptions dbOptions,
      ColumnFamilyOptions cfOptions,
      BloomFilter bloom,
      RocksDB db,
      List<ColumnFamilyHandle> handles) {
    this.dbOptions = dbOptions;
    this.cfOptions = cfOptions;
    this.bloom = bloom;
    this.writeOptions = new WriteOptions();
    this.db = db;
    this.handles = handles;
    for (Column column : Column.values()) {
      columns.put(column, handles.get(1 + column.ordinal()));
    }
  }

  /** Opens the store in {@code directory}, creating it when missing. */
  public static OfflineStore open(Path directory) {
    DBOptions dbOptions =
        new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true);
    // Most point reads miss (a message id seen for the first time, a user's first message):
    // bloom filters, in the memtable as in the files, answer those without a search.
    BloomFilter bloom = new BloomFilter(10);
    ColumnFamilyOptions cfOptions = new ColumnFamilyOptions()
        .setTableFormatConfig(new BlockBasedTableConfig().setFilterPolicy(bloom))
        .setMemtablePrefixBloomSizeRatio(0.1)
        .setMemtableWholeKeyFiltering(true);
    List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
    descriptors.add(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, cfOptions));
    for (Column column : Column.values()) {
      descriptors.add(new ColumnFamilyDescriptor(
          column.familyName.getBytes(StandardCharsets.UTF_8), cfOptions));
    }
    List<ColumnFamilyHandle> handles = new ArrayList<>();
    try {
      Files.createDirectories(directory);
      RocksDB db = RocksDB.open(dbOptions, directory.toString(), descriptors, handles);
      return new OfflineStore(dbOptions, cfOptions, bloom, db, handles);
    } catch (Exception e) {
      cfOptions.close();
      bloom.close();
      dbOptions.close();
      throw new StoreException("cannot open the offline store at " + directory, e);
    }
  }

  /** The user's committed state; the default instance for a user the store has never seen. */
  public UserState userState(String userId) {
    return parseUser(userId, get(Column.USERS, Keys.user(userId)));
  }

  /**
   * Up to {@code limit} of the user's committed messages with seq greater than {@code afterSeq},
   * in seq order.
   */
  public List<StoredMessage> readAfter(String userId, long afterSeq, int limit) {
    return readAfter(this::scan, userId, afterSeq, limit);
  }

  /** Reads entries of a column in a key range: the store's own, or with pending changes over it. */
  @FunctionalInterface
  interface Scan {
    List<Entry> scan(Column column, byte[] from, byte[] to, int limit);
  }

  /** Up to {@code limit} of the user's messages after {@code afterSeq} that {@code scan} sees. */
  static List<StoredMessage> readAfter(Scan scan, String userId, long afterSeq, int limit) {
    if (limit <= 0) {
      throw new IllegalArgumentException("limit: " + limit + " (expected: > 0)");
    }
    List<StoredMessage> result = new ArrayList<>();
    for (Entry e : scan.scan(Column.MESSAGES, Keys.message(userId, Math.max(afterSeq + 1, 1)),
        Keys.messageUpperBound(userId), limit)) {
      result.add(new StoredMessage(Keys.seqOf(e.key()), parseMessage(e.key(), e.value())));
    }
    return result;
  }

  /** The highest committed offset of the partition whose record is applied; -1 when none is. */
  public long appliedOffset(String topic, int partition) {
    byte[] value = get(Column.OFFSETS, Keys.offset(topic, partition));
    return value == null ? -1 : Keys.longOf(value);
  }

  /** The changelog offset a restore of this store continues from; 0 for a new store. */
  public long changelogPosition() {
    byte[] value = get(Column.OFFSETS, Keys.CHANGELOG_POSITION);
    return value == null ? 0 : Keys.longOf(value);
  }

  /**
   * When the store last caught up with its changelog (a transaction written, or a restore), in ms
   * since the epoch; 0 for a new store. Deletes logged since are certain to be still in the
   * changelog only while they are younger than its tombstone retention.
   */
  public long changelogPositionAtMs() {
    byte[] value = get(Column.OFFSETS, Keys.CHANGELOG_POSITION);
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
        ColumnFamilyHandle family = handle(Column.of(change.family()));
        if (change.family() == StoreChange.Family.MESSAGES) {
          ByteBuffer id = ByteBuffer.wrap(key);
          byte[] previous = restoredMessages.containsKey(id)
              ? restoredMessages.get(id) : get(Column.MESSAGES, key);
          if (previous != null) {
            long expiresAt = expiresAt(parseMessage(key, previous));
            if (expiresAt > 0) {
              batch.delete(handle(Column.EXPIRY), Keys.expiry(expiresAt, key));
            }
          }
          if (!change.isDelete()) {
            long expiresAt = expiresAt(parseMessage(key, change.value()));
            if (expiresAt > 0) {
              batch.put(handle(Column.EXPIRY), Keys.expiry(expiresAt, key), new byte[0]);
            }
          }
          restoredMessages.put(id, change.value());
        } else if (change.family() == StoreChange.Family.IDS && !change.isDelete()) {
          batch.put(handle(Column.ID_EXPIRY), Keys.idExpiry(Keys.longOf(change.value()), key),
              new byte[0]);
        }
        if (change.isDelete()) {
          batch.delete(family, key);
        } else {
          batch.put(family, key, change.value());
        }
      }
      batch.put(handle(Column.OFFSETS), Keys.CHANGELOG_POSITION,
          Keys.changelogPosition(nextOffset, atMs));
      write(batch);
    } catch (RocksDBException e) {
      throw new StoreException("cannot restore " + changes.size() + " changes", e);
    }
  }

  /** A key and its value. */
  record Entry(byte[] key, byte[] value) {}

  /** Up to {@code limit} committed entries of the column in [{@code from}, {@code to}). */
  List<Entry> scan(Column column, byte[] from, byte[] to, int limit) {
    List<Entry> result = new ArrayList<>();
    try (Cursor cursor = cursor(column, from, to)) {
      for (; cursor.isValid() && result.size() < limit; cursor.next()) {
        result.add(new Entry(cursor.key(), cursor.value()));
      }
    }
    return result;
  }

  /** An iterator over the committed entries of the column in [{@code from}, {@code to}). */
  Cursor cursor(Column column, byte[] from, byte[] to) {
    return new Cursor(column, from, to);
  }

  /** A RocksDB iterator with its options and bound, released together. */
  final class Cursor implements AutoCloseable {
    private final Slice upper;
    private final ReadOptions options;
    private final RocksIterator it;
    private final Column column;

    private Cursor(Column column, byte[] from, byte[] to) {
      this.column = column;
      this.upper = to == null ? null : new Slice(to);
      this.options = new ReadOptions();
      if (upper != null) {
        options.setIterateUpperBound(upper);
      }
      this.it = db.newIterator(handle(column), options);
      it.seek(from);
    }

    boolean isValid() {
      if (it.isValid()) {
        return true;
      }
      try {
        it.status();
      } catch (RocksDBException e) {
        throw new StoreException("cannot read " + column.familyName, e);
      }
      return false;
    }

    byte[] key() {
      return it.key();
    }

    byte[] value() {
      return it.value();
    }

    void next() {
      it.next();
    }

    @Override
    public void close() {
      it.close();
      options.close();
      if (upper != null) {
        upper.close();
      }
    }
  }

  ColumnFamilyHandle handle(Column column) {
    return columns.get(column);
  }

  /**
   * About how many messages the store holds: RocksDB's estimate of the keys of the messages
   * column (cheap, not exact: deletes are counted out approximately until compaction); 0 when it
   * cannot tell.
   */
  public long estimatedMessages() {
    try {
      return Math.max(0, db.getLongProperty(handle(Column.MESSAGES), "rocksdb.estimate-num-keys"));
    } catch (RocksDBException e) {
      return 0;
    }
  }

  byte[] get(Column column, byte[] key) {
    try {
      return db.get(handle(column), key);
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

  /** When the message's TTL ends, in ms since the epoch; 0 when it has none. */
  public static long expiresAt(Message message) {
    return message.getTtlMs() > 0 ? message.getCreatedAtMs() + message.getTtlMs() : 0;
  }

  static Message parseMessage(byte[] key, byte[] value) {
    try {
      return Message.parseFrom(value);
    } catch (InvalidProtocolBufferException e) {
      throw new StoreException("corrupt message of " + Keys.describeMessage(key), e);
    }
  }

  static PushRegistration parsePush(byte[] key, byte[] value) {
    try {
      return PushRegistration.parseFrom(value);
    } catch (InvalidProtocolBufferException e) {
      throw new StoreException("corrupt push target of " + Arrays.toString(key), e);
    }
  }

  static UserState parseUser(String userId, byte[] value) {
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
   * Flushes and closes the database, then its handles and options, in that order. Idempotent.
   * Must not race with reads or writes still in progress.
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
    bloom.close();
    dbOptions.close();
  }
}
