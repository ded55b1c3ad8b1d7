package io.homing.edge.presence;

import io.homing.api.PresenceKeys;
import io.homing.runtime.redis.Redis;
import io.homing.runtime.redis.RedisConnection;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's presence in Redis: its liveness key, refreshed every third of its TTL, and the
 * device → connection entries of the users connected here. Key layout: {@link PresenceKeys}.
 *
 * <p>A device registering here that was registered on another node is announced on that node's
 * {@link PresenceKeys#replaced} channel, and this node hears its own channel on a second,
 * pub/sub connection (which Lettuce subscribes again after every reconnect). Pub/sub is
 * at-most-once: a notice published while the other node is cut off from Redis is lost. On a Redis
 * Cluster the channel is the classic, cluster-wide one: published on any node, heard on all.
 *
 * <p>Every script touches the keys of one user, which share a slot; off a cluster, registering
 * also moves the device out of the user's hash of the layout before hash tags ({@link
 * PresenceKeys#legacyPresence}), which older edges wrote.
 *
 * <p>Every call is asynchronous (one shared Lettuce connection) and never blocks the caller, so it
 * is safe on an event loop. Writes are atomic Lua scripts.
 */
public final class Presence implements AutoCloseable {
  /** How long a user's hash lives without any device registering again. */
  private static final Duration USER_KEY_TTL = Duration.ofDays(1);

  private static final Logger log = LoggerFactory.getLogger(Presence.class);

  private final String nodeId;
  private final String advertisedAddress;
  private final Duration ttl;
  private final PresenceKeys keys;
  private final Redis connection;
  private final RedisClusterAsyncCommands<String, String> redis;
  private final StatefulRedisPubSubConnection<String, String> notices;
  private final String registerScript = script("register.lua");
  private final String unregisterScript = script("unregister.lua");
  private final ScheduledExecutorService heartbeat =
      Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "presence-heartbeat"));
  private volatile Runnable onLost = () -> { };
  private volatile Consumer<ReplaceNotice> onReplaced = notice -> { };
  private volatile boolean started;
  private boolean closed;

  public Presence(
      RedisConnection redis, String keyPrefix, String nodeId, String advertisedAddress,
      Duration ttl) {
    this.nodeId = nodeId;
    this.advertisedAddress = advertisedAddress;
    this.ttl = ttl;
    this.keys = new PresenceKeys(keyPrefix);
    this.connection = redis.open();
    this.redis = connection.async();
    this.notices = connection.connectPubSub();
  }

  /**
   * What to do when Redis lost this node's state: the liveness key was gone at a refresh, so Redis
   * restarted (empty) or the node was unreachable longer than the TTL — its device entries are
   * gone or about to be. Runs on the heartbeat thread; it should register every connection again.
   */
  public void onLost(Runnable onLost) {
    this.onLost = onLost;
  }

  /**
   * What to do when another node took over a device connected here: close the connection the
   * notice names if it is still the device's. Runs on a Lettuce thread; must not block.
   */
  public void onReplaced(Consumer<ReplaceNotice> onReplaced) {
    this.onReplaced = onReplaced;
  }

  /**
   * Subscribes to this node's replacement channel and writes the liveness key now (waiting for
   * both, bounded by Lettuce's command timeout), then keeps refreshing it until {@link #close()}.
   */
  public void start() {
    notices.addListener(
        new RedisPubSubAdapter<>() {
          @Override
          public void message(String channel, String message) {
            replacedElsewhere(message);
          }
        });
    notices.async().subscribe(keys.replaced(nodeId)).toCompletableFuture().join();
    refreshLiveness().toCompletableFuture().join();
    started = true;
    long period = Math.max(1, ttl.toMillis() / 3);
    heartbeat.scheduleAtFixedRate(
        () ->
            refreshLiveness()
                .exceptionally(
                    e -> {
                      log.warn("cannot refresh liveness of node {}: {}", nodeId, e.toString());
                      return null;
                    }),
        period,
        period,
        TimeUnit.MILLISECONDS);
  }

  /**
   * Points the user's device at this node's connection, and completes with the route the device
   * had before (null when none). When that route names another node, the node is told on its
   * channel, without waiting for it.
   */
  public CompletionStage<String> register(String userId, String deviceId, String connectionId) {
    return redis
        .<String>eval(
            registerScript,
            ScriptOutputType.VALUE,
            connection.cluster()
                ? new String[] {keys.presence(userId)}
                : new String[] {keys.presence(userId), keys.legacyPresence(userId)},
            deviceId,
            PresenceKeys.route(nodeId, connectionId),
            Long.toString(USER_KEY_TTL.toMillis()))
        .thenApply(
            previous -> {
              if (previous != null && !PresenceKeys.nodeOf(previous).equals(nodeId)) {
                announceReplaced(previous, userId, deviceId);
              }
              return previous;
            });
  }

  private void announceReplaced(String route, String userId, String deviceId) {
    String node = PresenceKeys.nodeOf(route);
    ReplaceNotice notice =
        new ReplaceNotice(userId, deviceId, PresenceKeys.connectionOf(route));
    redis
        .publish(keys.replaced(node), notice.encode())
        .whenComplete(
            (listeners, error) -> {
              if (error != null) {
                log.warn("cannot tell node {} that {} was replaced: {}", node, notice,
                    error.toString());
              } else if (listeners == 0) {
                log.debug("node {} did not hear that {} was replaced (down?)", node, notice);
              }
            });
  }

  private void replacedElsewhere(String message) {
    ReplaceNotice notice;
    try {
      notice = ReplaceNotice.decode(message);
    } catch (IllegalArgumentException e) {
      log.warn("ignoring a notice on {}: {}", keys.replaced(nodeId), e.getMessage());
      return;
    }
    onReplaced.accept(notice);
  }

  /** Removes the device's entry if it still names this connection. */
  public CompletionStage<Boolean> unregister(String userId, String deviceId, String connectionId) {
    return redis
        .<Long>eval(
            unregisterScript,
            ScriptOutputType.INTEGER,
            new String[] {keys.presence(userId)},
            deviceId,
            PresenceKeys.route(nodeId, connectionId))
        .thenApply(removed -> removed == 1L);
  }

  private CompletionStage<Void> refreshLiveness() {
    return redis
        .setGet(keys.edge(nodeId), advertisedAddress, SetArgs.Builder.px(ttl.toMillis()))
        .thenAccept(
            previous -> {
              if (previous == null && started) {
                log.warn("liveness key of node {} was gone: registering every connection again",
                    nodeId);
                onLost.run();
              }
            });
  }

  /**
   * Stops refreshing, deletes the liveness key (so core stops routing here at once) and closes the
   * connections, the replacement channel's first. Idempotent; bounded to a few seconds.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    heartbeat.shutdownNow();
    try {
      redis.del(keys.edge(nodeId)).get(2, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.warn("cannot delete liveness key of node {}: {}", nodeId, e.toString());
    }
    connection.close(); // the replacement channel's connection first
  }

  private static String script(String name) {
    try (InputStream in = Presence.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
