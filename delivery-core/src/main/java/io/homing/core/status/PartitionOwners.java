package io.homing.core.status;

import io.homing.api.PresenceKeys;
import io.homing.runtime.redis.Redis;
import io.homing.runtime.redis.RedisConnection;
import io.lettuce.core.SetArgs;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which core instance owns which partition, in Redis ({@link PresenceKeys#partitionOwner}): each
 * instance writes its partitions with its internal address every {@link #REFRESH}, to live
 * {@link #TTL}, so that another core can forward a GetStatus to the owner. Soft state like
 * presence: after a rebalance the new owner's entry replaces the old within a refresh, and a
 * forwarded call that reaches an instance that no longer owns the partition is answered
 * UNAVAILABLE.
 */
public final class PartitionOwners implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PartitionOwners.class);
  static final Duration REFRESH = Duration.ofSeconds(3);
  static final Duration TTL = Duration.ofSeconds(15);

  /** An owner: its instance id and internal address, {@code host:port}. */
  public record Owner(String instanceId, String address) {}

  private final PresenceKeys keys;
  private final String instanceId;
  private volatile String entry;
  private final Supplier<Set<Integer>> owned;
  private final Redis connection;
  private final RedisClusterAsyncCommands<String, String> redis;
  private final ScheduledExecutorService refresher =
      Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "partition-owners");
        thread.setDaemon(true);
        return thread;
      });

  /**
   * @param owned the partitions this instance owns now; read from the refresher's thread
   */
  public PartitionOwners(RedisConnection redis, String keyPrefix, String instanceId,
      Supplier<Set<Integer>> owned) {
    this.keys = new PresenceKeys(keyPrefix);
    this.instanceId = instanceId;
    this.owned = owned;
    this.connection = redis.open();
    this.redis = connection.async();
  }

  /** Starts registering this instance's partitions, reachable at {@code internalAddress}. */
  public PartitionOwners start(String internalAddress) {
    this.entry = instanceId + '|' + internalAddress;
    refresher.scheduleWithFixedDelay(this::refresh, 0, REFRESH.toMillis(),
        TimeUnit.MILLISECONDS);
    return this;
  }

  private void refresh() {
    try {
      for (int partition : owned.get()) {
        redis.set(keys.partitionOwner(partition), entry, SetArgs.Builder.px(TTL.toMillis()));
      }
    } catch (RuntimeException e) {
      log.warn("cannot register partition owners: {}", e.toString());
    }
  }

  /** The partition's owner as Redis says; null when none is registered. */
  public CompletableFuture<Owner> ownerOf(int partition) {
    return redis.get(keys.partitionOwner(partition)).toCompletableFuture().thenApply(value -> {
      int bar = value == null ? -1 : value.indexOf('|');
      return bar <= 0 ? null : new Owner(value.substring(0, bar), value.substring(bar + 1));
    });
  }

  @Override
  public void close() {
    refresher.shutdownNow();
    connection.close();
  }
}
