package io.homing.edge.presence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import io.homing.api.PresenceKeys;
import io.homing.runtime.redis.RedisConnection;
import io.homing.testing.RedisServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PresenceIT {
  private final RedisServer server = RedisServer.shared();
  private final String prefix = "t" + UUID.randomUUID() + ":";
  private final PresenceKeys keys = new PresenceKeys(prefix);
  private final Presence presence =
      new Presence(RedisConnection.of(server.uri()), prefix, "node-a", "127.0.0.1:9999",
          Duration.ofSeconds(3));
  private final RedisClient client = RedisClient.create(server.uri());
  private final StatefulRedisConnection<String, String> connection = client.connect();
  private final RedisCommands<String, String> redis = connection.sync();
  private final List<AutoCloseable> closing = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (int i = closing.size() - 1; i >= 0; i--) {
      closing.get(i).close(); // the last opened first: a Redis server after its clients
    }
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

  @Test
  void registerAnswersTheRouteItReplaced() {
    assertThat(presence.register("cleo", "phone", "c1").toCompletableFuture().join()).isNull();
    assertThat(presence.register("cleo", "phone", "c2").toCompletableFuture().join())
        .isEqualTo("node-a|c1");
    assertThat(presence.register("cleo", "laptop", "c3").toCompletableFuture().join()).isNull();
    assertThat(redis.hget(keys.presence("cleo"), "phone")).isEqualTo("node-a|c2");
  }

  @Test
  void takingADeviceFromAnotherNodeNamesItsOldConnectionOnThatNodesChannel() throws Exception {
    BlockingQueue<String> onB = subscribe(server.uri(), keys.replaced("node-b"));
    Presence b = started(server.uri(), "node-b");
    BlockingQueue<ReplaceNotice> heardByB = heard(b);
    BlockingQueue<ReplaceNotice> heardByA = heard(presence);
    presence.start();
    b.register("dan", "phone", "b1").toCompletableFuture().join();

    assertThat(presence.register("dan", "phone", "a1").toCompletableFuture().join())
        .isEqualTo("node-b|b1");
    assertThat(onB.poll(5, TimeUnit.SECONDS)).isEqualTo("3:dan5:phoneb1");
    assertThat(heardByB.poll(5, TimeUnit.SECONDS))
        .isEqualTo(new ReplaceNotice("dan", "phone", "b1"));

    presence.register("dan", "phone", "a2").toCompletableFuture().join(); // same node: no notice
    presence.register("dan", "laptop", "a3").toCompletableFuture().join(); // no one before
    b.register("dan", "phone", "b2").toCompletableFuture().join();
    assertThat(heardByA.poll(5, TimeUnit.SECONDS))
        .isEqualTo(new ReplaceNotice("dan", "phone", "a2"));
    assertThat(heardByB.poll(300, TimeUnit.MILLISECONDS)).isNull();
    assertThat(onB).isEmpty();
  }

  @Test
  void registeringMovesTheDeviceOutOfTheHashOfTheLayoutBeforeHashTags() throws Exception {
    // What an edge of the previous version wrote, as it wrote it
    redis.hset(keys.legacyPresence("flo"), "phone", "node-old|o1");
    redis.hset(keys.legacyPresence("flo"), "laptop", "node-old|o2");
    BlockingQueue<String> onOld = subscribe(server.uri(), keys.replaced("node-old"));

    assertThat(presence.register("flo", "phone", "a1").toCompletableFuture().join())
        .isEqualTo("node-old|o1");
    assertThat(onOld.poll(5, TimeUnit.SECONDS)).isEqualTo("3:flo5:phoneo1");
    assertThat(redis.hgetall(keys.legacyPresence("flo"))).containsOnlyKeys("laptop");
    assertThat(redis.hgetall(keys.presence("flo"))).containsOnly(entry("phone", "node-a|a1"));
  }

  @Test
  void aNodeStillHearsItsChannelAfterRedisRestarted() throws Exception {
    RedisServer own = RedisServer.start();
    closing.add(own);
    Presence a = started(own.uri(), "node-a");
    Presence b = started(own.uri(), "node-b");
    BlockingQueue<ReplaceNotice> heardByB = heard(b);

    own.restart();

    // Lettuce reconnects with a backoff, then subscribes again; until then notices are lost
    ReplaceNotice notice = null;
    for (int i = 0; notice == null && i < 50; i++) {
      b.register("eve", "phone-" + i, "b" + i).toCompletableFuture().get(5, TimeUnit.SECONDS);
      a.register("eve", "phone-" + i, "a" + i).toCompletableFuture().get(5, TimeUnit.SECONDS);
      notice = heardByB.poll(200, TimeUnit.MILLISECONDS);
    }
    assertThat(notice).isNotNull();
    assertThat(notice.userId()).isEqualTo("eve");
    assertThat(notice.connectionId()).isEqualTo("b" + notice.deviceId().substring(6));
  }

  private Presence started(String uri, String node) {
    Presence p = new Presence(RedisConnection.of(uri), prefix, node, "127.0.0.1:9998",
        Duration.ofSeconds(3));
    closing.add(p);
    p.start();
    return p;
  }

  private static BlockingQueue<ReplaceNotice> heard(Presence p) {
    BlockingQueue<ReplaceNotice> notices = new LinkedBlockingQueue<>();
    p.onReplaced(notices::add);
    return notices;
  }

  /** What a plain subscriber of {@code channel} receives. */
  private BlockingQueue<String> subscribe(String uri, String channel) {
    RedisClient subscriber = RedisClient.create(uri);
    StatefulRedisPubSubConnection<String, String> pubSub = subscriber.connectPubSub();
    closing.add(subscriber::shutdown);
    BlockingQueue<String> messages = new LinkedBlockingQueue<>();
    pubSub.addListener(
        new RedisPubSubAdapter<>() {
          @Override
          public void message(String ch, String message) {
            messages.add(message);
          }
        });
    pubSub.sync().subscribe(channel);
    return messages;
  }
}
