package io.homing.runtime.redis;

import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * An open Redis — one server (possibly found through Sentinel) or a Redis Cluster — seen the
 * same way: one shared, thread-safe connection and its asynchronous commands, and pub/sub
 * connections on demand. Opened by {@link RedisConnection#open()}.
 *
 * <p>On a cluster, a command goes to the master of its key's slot (Lettuce follows MOVED and
 * refreshes the topology), so a Lua script or a multi-key command must only touch keys of one
 * slot; {@code PUBLISH} and {@code SUBSCRIBE} are the classic, cluster-wide ones.
 */
public final class Redis implements AutoCloseable {
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(2);

  private final AbstractRedisClient client;
  private final StatefulConnection<String, String> connection;
  private final RedisClusterAsyncCommands<String, String> commands;
  private final Supplier<StatefulRedisPubSubConnection<String, String>> pubSub;
  private final boolean cluster;
  private final List<StatefulRedisPubSubConnection<String, String>> subscribers =
      new ArrayList<>();
  private boolean closed;

  Redis(AbstractRedisClient client, StatefulConnection<String, String> connection,
      RedisClusterAsyncCommands<String, String> commands,
      Supplier<StatefulRedisPubSubConnection<String, String>> pubSub, boolean cluster) {
    this.client = client;
    this.connection = connection;
    this.commands = commands;
    this.pubSub = pubSub;
    this.cluster = cluster;
  }

  /** The commands of the shared connection; thread-safe, never blocking. */
  public RedisClusterAsyncCommands<String, String> async() {
    return commands;
  }

  /**
   * A new pub/sub connection, subscribed again by Lettuce after every reconnect; on a cluster it
   * hears the messages published on any node. {@link #close()} closes it.
   */
  public synchronized StatefulRedisPubSubConnection<String, String> connectPubSub() {
    StatefulRedisPubSubConnection<String, String> subscriber = pubSub.get();
    subscribers.add(subscriber);
    return subscriber;
  }

  /** Whether this is a Redis Cluster. */
  public boolean cluster() {
    return cluster;
  }

  /**
   * Closes the pub/sub connections, then the shared one, then shuts the client down. Idempotent;
   * bounded to a few seconds.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    subscribers.forEach(StatefulRedisPubSubConnection::close);
    connection.close();
    client.shutdown(Duration.ZERO, CLOSE_TIMEOUT);
  }
}
