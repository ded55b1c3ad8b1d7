package io.homing.core.state;

import io.homing.store.OfflineStore;
import io.homing.store.PartitionState;
import io.homing.store.StoreException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
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
 * <p>One per pipeline, all on the same data directory (a partition is owned by one pipeline at a
 * time). Pipeline thread only.
 */
public final class PartitionStores implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PartitionStores.class);
  /** The changelog topic's {@code delete.retention.ms}: how long tombstones outlive compaction. */
  public static final Duration TOMBSTONE_RETENTION = Duration.ofDays(1);
  /** How long a store held by another pipeline of this process is waited for. */
  private static final Duration LOCK_WAIT = Duration.ofSeconds(30);

  private final Path dataDir;
  private final int partitionCount;
  private final Changelog changelog;
  private final Map<Integer, PartitionState> open = new HashMap<>();

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

  /** The state holding the user's queue; {@code null} when this instance does not own it. */
  public PartitionState forUser(String userId) {
    return open.get(partitionOf(userId));
  }

  /** The state of an owned partition; {@code null} when this instance does not own it. */
  public PartitionState get(int partition) {
    return open.get(partition);
  }

  /** The states of every partition this pipeline owns, by partition; a live, read-only view. */
  public Map<Integer, PartitionState> owned() {
    return Collections.unmodifiableMap(open);
  }

  /**
   * Opens the partition's store, brings it up to the end of its changelog and lays a state over
   * it. Idempotent.
   */
  public PartitionState open(int partition) {
    PartitionState state = open.get(partition);
    if (state != null) {
      return state;
    }
    Path directory = dataDir.resolve("partition-" + partition);
    OfflineStore store = openWaitingForLock(directory);
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
    state = new PartitionState(store);
    open.put(partition, state);
    return state;
  }

  /**
   * Opens the store, waiting while another pipeline of this process still holds it: one that lost
   * the partition (its session timed out) lets go of it on its next poll.
   */
  private static OfflineStore openWaitingForLock(Path directory) {
    long deadline = System.nanoTime() + LOCK_WAIT.toNanos();
    while (true) {
      try {
        return OfflineStore.open(directory);
      } catch (StoreException e) {
        String cause = String.valueOf(e.getCause() == null ? null : e.getCause().getMessage());
        if (!cause.contains("lock") || System.nanoTime() > deadline) {
          throw e;
        }
        log.info("store {} is still held by another pipeline of this process; waiting", directory);
        try {
          Thread.sleep(200);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
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

  /**
   * Closes the partition's store, keeping its files for the next assignment; changes not written
   * to it yet are dropped (commit them first, unless the partition was lost).
   */
  public void close(int partition) {
    PartitionState state = open.remove(partition);
    if (state != null) {
      state.close();
    }
  }

  @Override
  public void close() {
    open.values().forEach(PartitionState::close);
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
