package io.homing.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A real Redis Cluster on loopback: {@code masters} × (1 + {@code replicas}) {@code redis-server}
 * processes with {@code --cluster-enabled yes}, without persistence, joined by {@code redis-cli
 * --cluster create}. Started in about a second; {@link #close()} kills every process and deletes
 * their folder.
 *
 * <p>Nodes time out after {@link #NODE_TIMEOUT}, so a replica takes over a killed master within a
 * few seconds. The binaries are those of {@link RedisServer}.
 */
public final class RedisCluster implements AutoCloseable {
  /** How long a node may be silent before the others fail it over. */
  public static final Duration NODE_TIMEOUT = Duration.ofMillis(1_000);
  private static final Duration START_TIMEOUT = Duration.ofSeconds(20);

  private final Path dir;
  private final Map<Integer, Process> nodes = new LinkedHashMap<>();

  private RedisCluster(Path dir) {
    this.dir = dir;
  }

  /** Starts and creates a cluster; waits until every node says {@code cluster_state:ok}. */
  public static RedisCluster start(int masters, int replicas) {
    RedisCluster cluster;
    try {
      cluster = new RedisCluster(Files.createTempDirectory("homing-redis-cluster-"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try {
      for (int i = 0; i < masters * (1 + replicas); i++) {
        cluster.startNode(Ports.free(), Ports.free());
      }
      for (int port : cluster.nodes.keySet()) {
        RedisCli.await(port, "PING", "PONG", START_TIMEOUT);
      }
      List<String> create = new ArrayList<>(List.of("--cluster", "create"));
      cluster.nodes.keySet().forEach(port -> create.add("127.0.0.1:" + port));
      create.addAll(List.of("--cluster-replicas", Integer.toString(replicas), "--cluster-yes"));
      String created = RedisCli.run(cluster.nodes.keySet().iterator().next(), create);
      if (!created.contains("[OK] All 16384 slots covered")) {
        throw new IllegalStateException("redis-cli --cluster create failed: " + created);
      }
      for (int port : cluster.nodes.keySet()) {
        RedisCli.await(port, "CLUSTER INFO", "cluster_state:ok", START_TIMEOUT);
      }
      // A replica that never synced has no data recent enough to take over its master.
      for (int port : cluster.nodes.keySet()) {
        if (RedisCli.run(port, List.of("ROLE")).startsWith("slave")) {
          RedisCli.await(port, "INFO replication", "master_link_status:up", START_TIMEOUT);
        }
      }
      return cluster;
    } catch (RuntimeException e) {
      cluster.close();
      throw e;
    }
  }

  private void startNode(int port, int busPort) {
    String binary = System.getenv().getOrDefault("HOMING_REDIS_SERVER", "redis-server");
    try {
      Process process = new ProcessBuilder(binary, "--bind", "127.0.0.1",
          "--port", Integer.toString(port), "--cluster-port", Integer.toString(busPort),
          "--cluster-enabled", "yes", "--cluster-config-file", "nodes-" + port + ".conf",
          "--cluster-node-timeout", Long.toString(NODE_TIMEOUT.toMillis()),
          "--dir", dir.toString(), "--save", "", "--appendonly", "no",
          // No delay before a replica's full sync (5 s by default, for more replicas to join).
          "--repl-diskless-sync-delay", "0")
          .redirectErrorStream(true)
          .redirectOutput(dir.resolve("redis-" + port + ".log").toFile())
          .start();
      nodes.put(port, process);
    } catch (IOException e) {
      throw new IllegalStateException(
          "cannot start " + binary + " (install Debian's redis-server, or set HOMING_REDIS_SERVER)",
          e);
    }
  }

  /**
   * {@code redis-cluster://127.0.0.1:p1,127.0.0.1:p2,...}: every node as a seed, in the URL form
   * of {@code io.homing.runtime.redis.RedisConnection}.
   */
  public String uri() {
    return "redis-cluster://" + nodes.keySet().stream().map(port -> "127.0.0.1:" + port)
        .collect(Collectors.joining(","));
  }

  /** The ports of the nodes, masters and replicas. */
  public List<Integer> ports() {
    return List.copyOf(nodes.keySet());
  }

  /**
   * The port of the master serving {@code slot} now, as the first live node tells (its {@code
   * CLUSTER NODES}).
   */
  public int masterOf(int slot) {
    for (int port : nodes.keySet()) {
      if (!nodes.get(port).isAlive()) {
        continue;
      }
      for (String line : RedisCli.run(port, List.of("CLUSTER", "NODES")).split("\n")) {
        String[] fields = line.trim().split(" ");
        if (fields.length < 9 || !fields[2].contains("master") || fields[2].contains("fail")) {
          continue;
        }
        for (int i = 8; i < fields.length; i++) {
          String[] range = fields[i].split("-");
          if (range[0].startsWith("[")) {
            continue; // a slot being migrated
          }
          int low = Integer.parseInt(range[0]);
          int high = range.length > 1 ? Integer.parseInt(range[1]) : low;
          if (slot >= low && slot <= high) {
            return Integer.parseInt(fields[1].substring(fields[1].indexOf(':') + 1,
                fields[1].indexOf('@')));
          }
        }
      }
      break;
    }
    throw new IllegalStateException("no master serves slot " + slot);
  }

  /** What {@code redis-cli} prints for {@code args} run on the node at {@code port}. */
  public String cli(int port, String... args) {
    return RedisCli.run(port, List.of(args));
  }

  /** Kills the node (SIGKILL); its replica, if any, takes over within a few seconds. */
  public void kill(int port) {
    LocalProcesses.kill(nodes.get(port));
  }

  /** Kills every node and deletes their folder. Idempotent. */
  @Override
  public void close() {
    nodes.keySet().forEach(this::kill);
    TempFolders.deleteQuietly(dir);
  }

  /** The log of a node, for a failing test's message. */
  public String log(int port) {
    try {
      return Files.readString(dir.resolve("redis-" + port + ".log"), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return e.toString();
    }
  }
}
