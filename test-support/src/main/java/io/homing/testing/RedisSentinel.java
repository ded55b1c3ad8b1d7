package io.homing.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A real Redis under Sentinel on loopback: a master, one replica of it, and one sentinel ({@code
 * redis-server --sentinel}) that monitors them as {@link #MASTER} with a quorum of 1, all without
 * persistence. {@link #killMaster()} kills the master, and the sentinel promotes the replica
 * within a few seconds. {@link #close()} kills the processes and deletes their folder. The
 * binaries are those of {@link RedisServer}.
 */
public final class RedisSentinel implements AutoCloseable {
  /** The name the sentinel knows the master by. */
  public static final String MASTER = "mymaster";
  private static final Duration TIMEOUT = Duration.ofSeconds(20);

  private final Path dir;
  private final Map<Integer, Process> processes = new LinkedHashMap<>();
  private final int sentinelPort = Ports.free();
  private final List<Integer> dataPorts = List.of(Ports.free(), Ports.free());

  private RedisSentinel(Path dir) {
    this.dir = dir;
  }

  /** Starts the master, its replica (in sync when this returns) and the sentinel. */
  public static RedisSentinel start() {
    RedisSentinel sentinel;
    try {
      sentinel = new RedisSentinel(Files.createTempDirectory("homing-redis-sentinel-"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try {
      sentinel.startAll();
      return sentinel;
    } catch (RuntimeException e) {
      sentinel.close();
      throw e;
    }
  }

  private void startAll() {
    int master = dataPorts.get(0);
    int replica = dataPorts.get(1);
    start("master", List.of("--port", Integer.toString(master)));
    start("replica", List.of("--port", Integer.toString(replica),
        "--replicaof", "127.0.0.1", Integer.toString(master)));
    RedisCli.await(master, "INFO replication", "state=online", TIMEOUT);
    Path config = dir.resolve("sentinel.conf");
    try {
      Files.writeString(config, String.join("\n",
          "bind 127.0.0.1",
          "port " + sentinelPort,
          "dir " + dir,
          "sentinel monitor " + MASTER + " 127.0.0.1 " + master + " 1",
          "sentinel down-after-milliseconds " + MASTER + " 1000",
          "sentinel failover-timeout " + MASTER + " 10000",
          ""));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    start("sentinel", List.of(config.toString(), "--sentinel"));
    RedisCli.await(sentinelPort, "SENTINEL replicas " + MASTER, "127.0.0.1", TIMEOUT);
  }

  private void start(String name, List<String> args) {
    String binary = System.getenv().getOrDefault("HOMING_REDIS_SERVER", "redis-server");
    List<String> command = new ArrayList<>(List.of(binary));
    command.addAll(args);
    if (!name.equals("sentinel")) {
      // No delay before a full sync (5 s by default, for more replicas to join it).
      command.addAll(List.of("--bind", "127.0.0.1", "--dir", dir.toString(), "--save", "",
          "--appendonly", "no", "--repl-diskless-sync-delay", "0"));
    }
    int port = name.equals("sentinel") ? sentinelPort
        : dataPorts.get(name.equals("master") ? 0 : 1);
    try {
      processes.put(port, new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(dir.resolve(name + ".log").toFile()).start());
    } catch (IOException e) {
      throw new IllegalStateException(
          "cannot start " + binary + " (install Debian's redis-server, or set HOMING_REDIS_SERVER)",
          e);
    }
    RedisCli.await(port, "PING", "PONG", TIMEOUT);
  }

  /**
   * {@code redis-sentinel://127.0.0.1:port#mymaster}: Lettuce's URL of the master that the
   * sentinel names.
   */
  public String uri() {
    return "redis-sentinel://127.0.0.1:" + sentinelPort + "#" + MASTER;
  }

  /** The port of the master, as the sentinel says now. */
  public int masterPort() {
    String[] lines = RedisCli.run(sentinelPort,
        List.of("SENTINEL", "get-master-addr-by-name", MASTER)).trim().split("\n");
    return Integer.parseInt(lines[lines.length - 1].trim());
  }

  /** The port of the node that is not the master now. */
  public int replicaPort() {
    int master = masterPort();
    return dataPorts.get(0) == master ? dataPorts.get(1) : dataPorts.get(0);
  }

  /**
   * Kills the master (SIGKILL), and waits until the sentinel has promoted the replica and names
   * it: a second after the master fell silent, and about as long again. (A {@code SENTINEL
   * FAILOVER} of a live master would leave it a master, and its clients on it, for 10 s more.)
   */
  public void killMaster() {
    int before = masterPort();
    int after = replicaPort();
    LocalProcesses.kill(processes.get(before));
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (masterPort() == before || !RedisCli.run(after, List.of("ROLE")).startsWith("master")) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the sentinel did not promote port " + after
            + " within " + TIMEOUT);
      }
      sleep();
    }
  }

  private static void sleep() {
    try {
      Thread.sleep(50);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the sentinel", e);
    }
  }

  /** Kills every process and deletes their folder. Idempotent. */
  @Override
  public void close() {
    processes.values().forEach(LocalProcesses::kill);
    TempFolders.deleteQuietly(dir);
  }
}
