package io.homing.edge.presence;

import io.homing.api.PresenceKeys;
import io.lettuce.core.RedisClient;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's presence in Redis: its liveness key, refreshed every third of its TTL, and the
 * device → connection entries of the users connected here. Key layout: {@link PresenceKeys}.
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
  private final RedisClient client;
  private final StatefulRedisConnection<String, String> connection;
  private final RedisAsyncCommands<String, String> redis;
  private final String registerScript = script("register.lua");
  private final String unregisterScript = script("unregister.lua");
  private final ScheduledExecutorService heartbeat =
      Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "presence-heartbeat"));
  private volatile Runnable onLost = () -> { };
  private volatile boolean started;
  private boolean closed;

  public Presence(
      String redisUri, String keyPrefix, String nodeId, String advertisedAddress, Duration ttl) {
    this.nodeId = nodeId;
    this.advertisedAddress = advertisedAddress;
    this.ttl = ttl;
    this.keys = new PresenceKeys(keyPrefix);
    this.client = RedisClient.create(redisUri);
    this.connection = client.connect();
    this.redis = connection.async();
  }

  /**
   * What to do when Redis lost this node's state: the liveness key was gone at a refresh, so Redis
   * restarted (empty) or the node was unreachable longer than the TTL — its device entries are
   * gone or about to be. Runs on the heartbeat thread; it should register every connection again.
   */
  public void onLost(Runnable onLost) {
    this.onLost = onLost;
  }

  /** Writes the liveness key now, and keeps refreshing it until {@link #close()}. */
  public void start() {
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

  /** Points the user's device at this node's connection. */
  public CompletionStage<Void> register(String userId, String deviceId, String connectionId) {
    return redis
        .<Long>eval(
            registerScript,
            ScriptOutputType.INTEGER,
            new String[] {keys.presence(userId)},
            deviceId,
            PresenceKeys.route(nodeId, connectionId),
            Long.toString(USER_KEY_TTL.toMillis()))
        .thenApply(ignored -> null);
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
   * connection. Idempotent; bounded by Lettuce's command timeout.
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
    connection.close();
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
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
