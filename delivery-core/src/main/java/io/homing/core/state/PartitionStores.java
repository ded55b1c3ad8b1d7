package io.homing.core.state;

import io.homing.store.OfflineStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The offline stores of the partitions this instance owns: one RocksDB per partition, in
 * {@code <data dir>/partition-<p>}, restored from the {@link Changelog} when the partition is
 * assigned and closed (its files kept, to restore less next time) when it is revoked.
 *
 * <p>A kept store is reused only when its changelog can bring it up to date: its position lies
 * inside the changelog, and it caught up recently enough that every delete logged since is still
 * there (compaction removes tombstones after {@link #TOMBSTONE_RETENTION}). Otherwise it is
 * deleted and rebuilt from the start of the changelog.
 *
 * <p>Pipeline thread only.
 */
public final class PartitionStores implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PartitionStores.class);
  /** The changelog topic's {@code delete.retention.ms}: how long tombstones outlive compaction. */
  public static final Duration TOMBSTONE_RETENTION = Duration.ofDays(1);

  private final Path dataDir;
  private final int partitionCount;
  private final Changelog changelog;
  private final Map<Integer, OfflineStore> open = new HashMap<>();

  /**
   * @param partitionCount the partition count of {@code outbound}, which places users
   * @throws IllegalStateException when {@code dataDir} holds a store of the layout before
   *     per-partition stores
   */
  public PartitionStores(Path dataDir, int partitionCount, Changelog changelog) {
    if (Files.exists(dataDir.resolve("CURRENT"))) {
      throw new IllegalStateException(dataDir + " holds a single offline store, the layout of "
          + "Homing before changelog failover; this version keeps one store per partition under "
          + "it and cannot migrate that one. Deliver or drain what it holds with the previous "
          + "version, then start with an empty data directory");
    }
    this.dataDir = dataDir;
    this.partitionCount = partitionCount;
    this.changelog = changelog;
  }

  /** The partition of {@code outbound} a user's records go to: Kafka's default partitioner. */
  public int partitionOf(String userId) {
    return Utils.toPositive(Utils.murmur2(userId.getBytes(StandardCharsets.UTF_8)))
        % partitionCount;
  }

  /** The store holding the user's queue; {@code null} when this instance does not own it. */
  public OfflineStore forUser(String userId) {
    return open.get(partitionOf(userId));
  }

  /** The store of an owned partition; {@code null} when this instance does not own it. */
  public OfflineStore get(int partition) {
    return open.get(partition);
  }

  /** The stores of every partition this instance owns, by partition. */
  public Map<Integer, OfflineStore> owned() {
    return Map.copyOf(open);
  }

  /** Opens the partition's store and brings it up to the end of its changelog. Idempotent. */
  public OfflineStore open(int partition) {
    OfflineStore store = open.get(partition);
    if (store != null) {
      return store;
    }
    Path directory = dataDir.resolve("partition-" + partition);
    store = OfflineStore.open(directory);
    String stale = staleness(store, changelog.extent(partition));
    if (stale != null) {
      log.info("rebuilding the store of partition {} from the start of its changelog: {}",
          partition, stale);
      store.close();
      delete(directory);
      store = OfflineStore.open(directory);
    }
    try {
      changelog.restore(partition, store);
    } catch (RuntimeException e) {
      store.close();
      throw e;
    }
    open.put(partition, store);
    return store;
  }

  /** Why the kept store cannot be brought up to date from the changelog; null when it can. */
  private static String staleness(OfflineStore store, Changelog.Extent extent) {
    long position = store.changelogPosition();
    if (position == 0) {
      return null;
    }
    if (position > extent.end()) {
      return "it holds changelog offsets up to " + position + " but the changelog ends at "
          + extent.end() + " (a new changelog topic?)";
    }
    if (position < extent.start()) {
      return "the changelog starts at " + extent.start() + ", after its position " + position;
    }
    long age = System.currentTimeMillis() - store.changelogPositionAtMs();
    if (position < extent.end() && age > TOMBSTONE_RETENTION.toMillis() / 2) {
      return "it is " + Duration.ofMillis(age) + " behind, deletes since may be compacted away";
    }
    return null;
  }

  /** Closes the partition's store, keeping its files for the next assignment. */
  public void close(int partition) {
    OfflineStore store = open.remove(partition);
    if (store != null) {
      store.close();
    }
  }

  @Override
  public void close() {
    open.values().forEach(OfflineStore::close);
    open.clear();
  }

  private static void delete(Path directory) {
    try (Stream<Path> paths = Files.walk(directory)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + directory, e);
    }
  }
}
