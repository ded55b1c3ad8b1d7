package io.homing.core.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.homing.api.PresenceKeys;
import io.homing.core.routing.PresenceResolver.Route;
import io.homing.runtime.redis.RedisConnection;
import io.homing.testing.RedisServer;
import io.lettuce.core.RedisClient;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What decides on notifications asks of presence: who is connected on a live edge — and when
 * Redis does not answer, that nobody's presence is known (not that everybody is offline).
 */
class PresenceResolverIT {
  private final RedisServer redis = RedisServer.start();
  private final PresenceKeys keys = new PresenceKeys("presence-it:");

  @AfterEach
  void stop() {
    redis.close();
  }

  @Test
  void connectedAreTheUsersWithADeviceOnALiveEdgeAndNoneAreKnownWithoutRedis() {
    RedisClient client = RedisClient.create(redis.uri());
    try (var connection = client.connect()) {
      var commands = connection.sync();
      commands.set(keys.edge("edge-1"), "127.0.0.1:7420");
      commands.hset(keys.presence("alice"), "phone", PresenceKeys.route("edge-1", "c1"));
      commands.hset(keys.presence("bob"), "phone", PresenceKeys.route("edge-dead", "c2"));
    } finally {
      client.shutdown();
    }
    try (PresenceResolver presence =
        new PresenceResolver(RedisConnection.of(redis.uri()), "presence-it:")) {
      assertThat(presence.connected(List.of("alice", "bob", "carol")))
          .containsExactly("alice");

      redis.kill();
      assertThat(presence.connected(List.of("alice", "bob"))).as("unknown").isNull();
    }
  }

  @Test
  void readsTheHashOfTheLayoutBeforeHashTagsTooAndTheNewerWins() {
    RedisClient client = RedisClient.create(redis.uri());
    try (var connection = client.connect()) {
      var commands = connection.sync();
      commands.set(keys.edge("edge-old"), "127.0.0.1:7421");
      // As an edge of the previous version wrote them, during an upgrade
      commands.hset(keys.legacyPresence("dora"), "phone", PresenceKeys.route("edge-old", "o1"));
      commands.hset(keys.legacyPresence("dora"), "tablet", PresenceKeys.route("edge-old", "o2"));
      commands.hset(keys.presence("dora"), "phone", PresenceKeys.route("edge-new", "n1"));
      commands.hset(keys.legacyPresence("emil"), "watch", PresenceKeys.route("edge-old", "o3"));
    } finally {
      client.shutdown();
    }
    try (PresenceResolver presence =
        new PresenceResolver(RedisConnection.of(redis.uri()), "presence-it:")) {
      assertThat(presence.devices(List.of("dora", "emil"))).isEqualTo(Map.of(
          "dora", Map.of("phone", new Route("edge-new", "n1"),
              "tablet", new Route("edge-old", "o2")),
          "emil", Map.of("watch", new Route("edge-old", "o3"))));
      assertThat(presence.connected(List.of("dora", "emil", "finn")))
          .containsExactlyInAnyOrder("dora", "emil");
    }
  }
}
