package io.homing.edge.presence;

import static org.assertj.core.api.Assertions.assertThat;

import io.homing.api.PresenceKeys;
import io.homing.testing.RedisServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PresenceIT {
  private final RedisServer server = RedisServer.shared();
  private final String prefix = "t" + UUID.randomUUID() + ":";
  private final PresenceKeys keys = new PresenceKeys(prefix);
  private final Presence presence =
      new Presence(server.uri(), prefix, "node-a", "127.0.0.1:9999", Duration.ofSeconds(3));
  private final RedisClient client = RedisClient.create(server.uri());
  private final StatefulRedisConnection<String, String> connection = client.connect();
  private final RedisCommands<String, String> redis = connection.sync();

  @AfterEach
  void close() {
    presence.close();
    connection.close();
    client.shutdown();
  }

  @Test
  void liveNodeKeyCarriesTheAddressWithATtlAndIsDeletedOnClose() {
    presence.start();

    assertThat(redis.get(keys.edge("node-a"))).isEqualTo("127.0.0.1:9999");
    assertThat(redis.pttl(keys.edge("node-a"))).isBetween(1L, 3000L);
    presence.close();
    assertThat(redis.exists(keys.edge("node-a"))).isZero();
  }

  @Test
  void registersDevicesOfAUserWithAnExpiringHash() {
    presence.register("alice", "phone", "c1").toCompletableFuture().join();
    presence.register("alice", "laptop", "c2").toCompletableFuture().join();

    assertThat(redis.hgetall(keys.presence("alice")))
        .containsEntry("phone", "node-a|c1")
        .containsEntry("laptop", "node-a|c2");
    assertThat(redis.pttl(keys.presence("alice"))).isPositive();
  }

  @Test
  void unregisterRemovesOnlyTheConnectionItNames() {
    presence.register("bob", "phone", "old").toCompletableFuture().join();
    presence.register("bob", "phone", "new").toCompletableFuture().join();

    boolean staleRemoved = presence.unregister("bob", "phone", "old").toCompletableFuture().join();
    assertThat(staleRemoved).isFalse();
    assertThat(redis.hget(keys.presence("bob"), "phone")).isEqualTo("node-a|new");

    boolean removed = presence.unregister("bob", "phone", "new").toCompletableFuture().join();
    assertThat(removed).isTrue();
    assertThat(redis.hexists(keys.presence("bob"), "phone")).isFalse();
  }
}
