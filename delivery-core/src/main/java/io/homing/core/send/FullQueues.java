package io.homing.core.send;

import io.homing.api.PresenceKeys;
import io.homing.runtime.redis.Redis;
import io.homing.runtime.redis.RedisConnection;
import io.lettuce.core.KeyValue;
import io.lettuce.core.SetArgs;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which users' queues are full, shared through Redis between the core instance that owns a user
 * (it marks the user when it refuses a message) and every instance's Send API (it refuses sends
 * to marked users with RESOURCE_EXHAUSTED before they reach Kafka). A mark lives a few seconds and
 * is renewed while messages keep being refused, so a queue that drained takes new messages again
 * soon after. Soft state: without Redis the Send API accepts, and core refuses at apply time.
 *
 * <p>On a Redis Cluster the marks of different users lie in different slots: Lettuce splits the
 * one {@code MGET} by slot, sends the parts together, and puts the answers back in order.
 */
public final class FullQueues implements AutoCloseable {
  /** How long a user stays marked after core last refused a message for them. */
  public static final Duration MARK_TTL = Duration.ofSeconds(5);

  private static final Logger log = LoggerFactory.getLogger(FullQueues.class);

  private final PresenceKeys keys;
  private final Redis connection;
  private final RedisClusterAsyncCommands<String, String> redis;

  public FullQueues(RedisConnection redis, String keyPrefix) {
    this.keys = new PresenceKeys(keyPrefix);
    this.connection = redis.open();
    this.redis = connection.async();
  }

  /** Marks the users' queues full for {@link #MARK_TTL}. Asynchronous; failures are logged. */
  public void mark(Collection<String> users) {
    for (String user : users) {
      redis.set(keys.fullQueue(user), "1", SetArgs.Builder.px(MARK_TTL.toMillis()))
          .exceptionally(e -> {
            log.warn("cannot mark the queue of {} full: {}", user, e.toString());
            return null;
          });
    }
  }

  /** The users among {@code users} whose queue is marked full; none when Redis cannot tell. */
  public CompletionStage<List<String>> full(List<String> users) {
    String[] keyNames = users.stream().map(keys::fullQueue).toArray(String[]::new);
    return redis.mget(keyNames)
        .thenApply(values -> {
          List<String> full = new ArrayList<>();
          for (int i = 0; i < values.size(); i++) {
            KeyValue<String, String> value = values.get(i);
            if (value.hasValue()) {
              full.add(users.get(i));
            }
          }
          return full;
        })
        .exceptionally(e -> {
          log.warn("cannot read full queues, accepting: {}", e.toString());
          return List.of();
        });
  }

  @Override
  public void close() {
    connection.close();
  }
}
