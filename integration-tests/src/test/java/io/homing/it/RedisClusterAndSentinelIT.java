package io.homing.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.homing.api.PresenceKeys;
import io.homing.core.routing.PresenceResolver;
import io.homing.core.routing.PresenceResolver.Route;
import io.homing.core.send.FullQueues;
import io.homing.core.status.PartitionOwners;
import io.homing.edge.presence.Presence;
import io.homing.edge.presence.ReplaceNotice;
import io.homing.runtime.redis.RedisConnection;
import io.homing.testing.RedisCluster;
import io.homing.testing.RedisSentinel;
import io.lettuce.core.cluster.SlotHash;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Presence — edges writing it, core reading it, replacement notices between edges, full-queue
 * marks and partition owners — on a real Redis Cluster, with users whose keys lie on different
 * masters, and on a real Redis under Sentinel, across a failover of its master.
 */
class RedisClusterAndSentinelIT {
  private static final Duration TTL = Duration.ofSeconds(3);

  private final String prefix = "t" + UUID.randomUUID().toString().substring(0, 8) + ":";
  private final PresenceKeys keys = new PresenceKeys(prefix);
  private final List<AutoCloseable> closing = new ArrayList<>();
  private final BlockingQueue<ReplaceNotice> heardByA = new LinkedBlockingQueue<>();

  @AfterEach
  void close() throws Exception {
    for (int i = closing.size() - 1; i >= 0; i--) {
      closing.get(i).close(); // clients before the servers they use
    }
  }

  @Test
  void presenceWorksForUsersOnDifferentMastersOfACluster() throws Exception {
    RedisCluster cluster = track(RedisCluster.start(3, 0));
    List<String> users = usersOnDifferentMasters(cluster, 3);
    for (String user : users) {
      assertThat(SlotHash.getSlot(keys.fullQueue(user)))
          .as("a user's keys share a slot")
          .isEqualTo(SlotHash.getSlot(keys.presence(user)));
    }
    RedisConnection redis = RedisConnection.of(cluster.uri());
    assertThat(redis.cluster()).isTrue();

    presenceAndReplacements(redis, users);

    FullQueues full = track(new FullQueues(redis, prefix));
    full.mark(List.of(users.get(2), users.get(0)));
    await().atMost(5, TimeUnit.SECONDS).untilAsserted(() ->
        assertThat(full.full(users).toCompletableFuture().get(2, TimeUnit.SECONDS))
            .containsExactly(users.get(0), users.get(2)));

    PartitionOwners core0 = track(new PartitionOwners(redis, prefix, "core-0", () -> Set.of(0, 1)));
    PartitionOwners core1 = track(new PartitionOwners(redis, prefix, "core-1", () -> Set.of(2)));
    core0.start("127.0.0.1:7600");
    core1.start("127.0.0.1:7601");
    Set<Integer> masters = new HashSet<>();
    for (int partition = 0; partition < 3; partition++) {
      masters.add(cluster.masterOf(SlotHash.getSlot(keys.partitionOwner(partition))));
    }
    assertThat(masters).as("owner keys on several masters").hasSizeGreaterThan(1);
    await().atMost(5, TimeUnit.SECONDS).untilAsserted(() -> {
      assertThat(core1.ownerOf(0).get(2, TimeUnit.SECONDS))
          .isEqualTo(new PartitionOwners.Owner("core-0", "127.0.0.1:7600"));
      assertThat(core0.ownerOf(1).get(2, TimeUnit.SECONDS).instanceId()).isEqualTo("core-0");
      assertThat(core0.ownerOf(2).get(2, TimeUnit.SECONDS))
          .isEqualTo(new PartitionOwners.Owner("core-1", "127.0.0.1:7601"));
    });
  }

  @Test
  void presenceFollowsAClusterFailover() throws Exception {
    RedisCluster cluster = track(RedisCluster.start(3, 1));
    RedisConnection redis = RedisConnection.of(cluster.uri());
    Parts parts = presenceAndReplacements(redis, usersOnDifferentMasters(cluster, 3));

    // Edge A's subscription lives on one node (PUBSUB CHANNELS is local in a cluster). Kill that
    // node if it is a master, to show that the subscription moves too; else another master.
    String channel = keys.replaced("edge-a");
    int subscribed = cluster.ports().stream()
        .filter(port -> cluster.cli(port, "PUBSUB", "CHANNELS").contains(channel))
        .findFirst().orElseThrow();
    int victim = cluster.cli(subscribed, "ROLE").startsWith("master") ? subscribed
        : cluster.masterOf(SlotHash.getSlot(keys.presence("kai")));
    String user = IntStream.range(0, 1_000).mapToObj(i -> "kai-" + i)
        .filter(u -> cluster.masterOf(SlotHash.getSlot(keys.presence(u))) == victim)
        .findFirst().orElseThrow();
    int slot = SlotHash.getSlot(keys.presence(user));
    cluster.kill(victim);
    await().atMost(15, TimeUnit.SECONDS).ignoreExceptions()
        .until(() -> cluster.masterOf(slot) != victim);

    afterFailover(parts, user);
  }

  @Test
  void presenceWorksThroughSentinelAndAfterAFailover() throws Exception {
    RedisSentinel sentinel = track(RedisSentinel.start());
    RedisConnection redis = RedisConnection.of(sentinel.uri());
    assertThat(redis.cluster()).isFalse();

    Parts parts = presenceAndReplacements(redis, List.of("sam", "sue"));

    int before = sentinel.masterPort();
    sentinel.killMaster();
    assertThat(sentinel.masterPort()).isNotEqualTo(before);

    afterFailover(parts, "sid");
  }

  /** The same clients, reconnected to the new master: writes, reads and notices still work. */
  private void afterFailover(Parts parts, String sid) {
    await().atMost(15, TimeUnit.SECONDS).ignoreExceptions().untilAsserted(() ->
        parts.edgeA.register(sid, "phone", "a-" + sid).toCompletableFuture()
            .get(2, TimeUnit.SECONDS));
    await().atMost(10, TimeUnit.SECONDS).untilAsserted(() ->
        assertThat(parts.core.devices(List.of(sid)))
            .containsEntry(sid, Map.of("phone", new Route("edge-a", "a-" + sid))));
    // Until edge A has subscribed again, a notice may go unheard: pub/sub is at-most-once.
    await().atMost(10, TimeUnit.SECONDS).untilAsserted(() -> {
      parts.edgeA.register(sid, "phone", "a-" + sid).toCompletableFuture()
          .get(2, TimeUnit.SECONDS);
      parts.edgeB.register(sid, "phone", "b-" + sid).toCompletableFuture()
          .get(2, TimeUnit.SECONDS);
      assertThat(heardByA.poll(1, TimeUnit.SECONDS))
          .isEqualTo(new ReplaceNotice(sid, "phone", "a-" + sid));
    });
  }

  /** Two edges and a core of one deployment. */
  private record Parts(Presence edgeA, Presence edgeB, PresenceResolver core) {}

  /**
   * Two edges and a core on {@code redis}: every user's phone registers on edge A and core finds
   * it; then the first user's phone moves to edge B, which tells edge A, and core follows. Returns
   * the three, still open.
   */
  private Parts presenceAndReplacements(RedisConnection redis, List<String> users)
      throws Exception {
    Presence edgeA = track(new Presence(redis, prefix, "edge-a", "127.0.0.1:7001", TTL));
    Presence edgeB = track(new Presence(redis, prefix, "edge-b", "127.0.0.1:7002", TTL));
    edgeA.onReplaced(heardByA::add);
    edgeA.start();
    edgeB.start();
    PresenceResolver core = track(new PresenceResolver(redis, prefix));

    for (String user : users) {
      assertThat(edgeA.register(user, "phone", "a-" + user).toCompletableFuture().get()).isNull();
    }
    Map<String, Map<String, Route>> devices = core.devices(users);
    for (String user : users) {
      assertThat(devices).containsEntry(user, Map.of("phone", new Route("edge-a", "a-" + user)));
    }
    assertThat(core.connected(users)).containsExactlyInAnyOrderElementsOf(users);
    assertThat(core.liveNodes(List.of("edge-a", "edge-b", "edge-gone")))
        .isEqualTo(Map.of("edge-a", "127.0.0.1:7001", "edge-b", "127.0.0.1:7002"));

    String moving = users.get(0);
    assertThat(edgeB.register(moving, "phone", "b-" + moving).toCompletableFuture().get())
        .isEqualTo(PresenceKeys.route("edge-a", "a-" + moving));
    assertThat(heardByA.poll(5, TimeUnit.SECONDS))
        .isEqualTo(new ReplaceNotice(moving, "phone", "a-" + moving));
    assertThat(core.devices(List.of(moving)))
        .containsEntry(moving, Map.of("phone", new Route("edge-b", "b-" + moving)));
    assertThat(edgeA.unregister(moving, "phone", "a-" + moving).toCompletableFuture().get())
        .as("the replaced connection's late disconnect").isFalse();
    assertThat(edgeB.unregister(moving, "phone", "b-" + moving).toCompletableFuture().get())
        .isTrue();
    assertThat(core.devices(users)).doesNotContainKey(moving).hasSize(users.size() - 1);
    return new Parts(edgeA, edgeB, core);
  }

  /** The first {@code count} users whose presence keys lie on {@code count} different masters. */
  private List<String> usersOnDifferentMasters(RedisCluster cluster, int count) {
    List<String> users = new ArrayList<>();
    Set<Integer> masters = new HashSet<>();
    for (int i = 0; users.size() < count && i < 1_000; i++) {
      String user = "user-" + i;
      if (masters.add(cluster.masterOf(SlotHash.getSlot(keys.presence(user))))) {
        users.add(user);
      }
    }
    assertThat(users).as("users on %s masters", count).hasSize(count);
    return users;
  }

  private <T extends AutoCloseable> T track(T closeable) {
    closing.add(closeable);
    return closeable;
  }
}
