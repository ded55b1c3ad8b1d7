package io.homing.core.routing;

import io.homing.api.PresenceKeys;
import io.homing.runtime.redis.Redis;
import io.homing.runtime.redis.RedisConnection;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads presence from Redis (layout: {@link PresenceKeys}): which devices of a user are connected,
 * on which live node, and where each node listens.
 *
 * <p>Look-ups for a whole poll batch go out together on one connection (Lettuce pipelines them)
 * and are awaited once, so a batch costs one round trip, not one per message. A Redis failure
 * reads as "nobody is online": messages stay queued and go out when the device reconnects.
 * Called from the pipeline thread only.
 *
 * <p>On a Redis Cluster, the look-ups of a batch go to the masters of their keys' slots, still
 * without waiting for each other. Off a cluster, a user's devices are also read from the hash of
 * the layout before hash tags ({@link PresenceKeys#legacyPresence}), which edges of the previous
 * version still write during an upgrade; the newer layout wins for a device in both.
 */
public final class PresenceResolver implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PresenceResolver.class);
  private static final Duration TIMEOUT = Duration.ofSeconds(2);
  private static final Duration NODE_CACHE_TTL = Duration.ofSeconds(1);
  /** How long a node whose liveness key is missing still counts as live. */
  static final Duration DEATH_GRACE = Duration.ofSeconds(10);

  private final PresenceKeys keys;
  private final Redis connection;
  private final RedisClusterAsyncCommands<String, String> redis;
  private final Map<String, CachedNode> nodes = new HashMap<>();

  public PresenceResolver(RedisConnection redis, String keyPrefix) {
    this.keys = new PresenceKeys(keyPrefix);
    this.connection = redis.open();
    this.redis = connection.async();
  }

  /** Where a device is connected: the node and the connection on it. */
  public record Route(String nodeId, String connectionId) {}

  /** For each user, device → its connection; users without devices are absent. */
  public Map<String, Map<String, Route>> devices(Collection<String> users) {
    Map<String, CompletableFuture<Map<String, String>>> pending = routes(users);
    Map<String, Map<String, Route>> result = new HashMap<>();
    for (Map.Entry<String, CompletableFuture<Map<String, String>>> e : pending.entrySet()) {
      Map<String, String> routes = await(e.getValue());
      if (routes == null || routes.isEmpty()) {
        continue;
      }
      Map<String, Route> byDevice = new HashMap<>();
      routes.forEach(
          (device, route) ->
              byDevice.put(
                  device,
                  new Route(PresenceKeys.nodeOf(route), PresenceKeys.connectionOf(route))));
      result.put(e.getKey(), byDevice);
    }
    return result;
  }

  /**
   * Which of the users have a device connected on a live node, as Redis shows now; null when
   * Redis did not answer, so that nobody's presence is known. What decides on notifications asks
   * this, because {@link #devices} reads a failure as "offline": a Redis outage must not notify
   * every user whose message came in meanwhile.
   */
  public Set<String> connected(Collection<String> users) {
    try {
      Map<String, CompletableFuture<Map<String, String>>> pending = routes(users);
      Map<String, Set<String>> nodesOf = new HashMap<>();
      for (Map.Entry<String, CompletableFuture<Map<String, String>>> e : pending.entrySet()) {
        Set<String> nodes = new HashSet<>();
        e.getValue().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).values()
            .forEach(route -> nodes.add(PresenceKeys.nodeOf(route)));
        nodesOf.put(e.getKey(), nodes);
      }
      // Each node read now, not from the cache: a failed read must say "unknown", where
      // liveNodes() would say "dead".
      Map<String, RedisFuture<String>> liveness = new HashMap<>();
      nodesOf.values().forEach(nodes -> nodes.forEach(
          node -> liveness.computeIfAbsent(node, n -> redis.get(keys.edge(n)))));
      Set<String> live = new HashSet<>();
      for (Map.Entry<String, RedisFuture<String>> e : liveness.entrySet()) {
        if (e.getValue().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS) != null) {
          live.add(e.getKey());
        }
      }
      Set<String> result = new HashSet<>();
      nodesOf.forEach((user, nodes) -> {
        if (nodes.stream().anyMatch(live::contains)) {
          result.add(user);
        }
      });
      return result;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    } catch (Exception e) {
      log.warn("presence look-up failed, presence unknown: {}", e.toString());
      return null;
    }
  }

  /**
   * For each node, its gRPC address; dead nodes are absent. Answers are cached for a second. A node
   * whose liveness key vanished counts as live with its last address for {@link #DEATH_GRACE}
   * more: after Redis restarts empty, live edges write their keys again within a second or so,
   * and their streams must not be dropped meanwhile. A node that died is noticed within its
   * liveness TTL plus the grace.
   */
  public Map<String, String> liveNodes(Collection<String> nodeIds) {
    long now = System.nanoTime();
    Map<String, RedisFuture<String>> pending = new LinkedHashMap<>();
    Map<String, String> result = new HashMap<>();
    for (String node : nodeIds) {
      CachedNode cached = nodes.get(node);
      if (cached != null && now - cached.readAtNanos < NODE_CACHE_TTL.toNanos()) {
        if (cached.address != null) {
          result.put(node, cached.address);
        }
      } else if (!pending.containsKey(node)) {
        pending.put(node, redis.get(keys.edge(node)));
      }
    }
    for (Map.Entry<String, RedisFuture<String>> e : pending.entrySet()) {
      CachedNode node = CachedNode.read(nodes.get(e.getKey()), await(e.getValue()), now);
      nodes.put(e.getKey(), node);
      if (node.address != null) {
        result.put(e.getKey(), node.address);
      }
    }
    return result;
  }

  /** Sends the look-ups of each user's device → route hash, without waiting for them. */
  private Map<String, CompletableFuture<Map<String, String>>> routes(Collection<String> users) {
    Map<String, CompletableFuture<Map<String, String>>> pending = new LinkedHashMap<>();
    for (String user : users) {
      CompletableFuture<Map<String, String>> current =
          redis.hgetall(keys.presence(user)).toCompletableFuture();
      if (!connection.cluster()) {
        current = redis.hgetall(keys.legacyPresence(user)).toCompletableFuture()
            .thenCombine(current, (legacy, routes) -> {
              Map<String, String> merged = new HashMap<>(legacy);
              merged.putAll(routes);
              return merged;
            });
      }
      pending.put(user, current);
    }
    return pending;
  }

  private static <T> T await(Future<T> future) {
    try {
      return future.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    } catch (Exception e) {
      log.warn("presence look-up failed, treating as offline: {}", e.toString());
      return null;
    }
  }

  @Override
  public void close() {
    connection.close();
  }

  /**
   * What core believes of a node: its address while live (null once dead), when that was read,
   * and since when its key has been missing (0 while present).
   */
  private record CachedNode(String address, long readAtNanos, long missingSinceNanos) {
    static CachedNode read(CachedNode before, String address, long now) {
      if (address != null) {
        return new CachedNode(address, now, 0);
      }
      if (before == null || before.address == null) {
        return new CachedNode(null, now, now);
      }
      long missingSince = before.missingSinceNanos == 0 ? now : before.missingSinceNanos;
      boolean dead = now - missingSince >= DEATH_GRACE.toNanos();
      return new CachedNode(dead ? null : before.address, now, missingSince);
    }
  }
}
