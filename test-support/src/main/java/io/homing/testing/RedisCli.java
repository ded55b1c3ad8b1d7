package io.homing.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code redis-cli} against a plaintext loopback Redis: from the folder of {@code
 * $HOMING_REDIS_SERVER} when that is set, else from the PATH (Debian's redis-tools).
 */
final class RedisCli {
  private RedisCli() {}

  /** Runs {@code redis-cli -p port args...} and returns what it printed, within 30 s. */
  static String run(int port, List<String> args) {
    String server = System.getenv("HOMING_REDIS_SERVER");
    String binary = server == null ? "redis-cli"
        : Path.of(server).resolveSibling("redis-cli").toString();
    List<String> command = new ArrayList<>(List.of(binary, "-h", "127.0.0.1", "-p",
        Integer.toString(port)));
    command.addAll(args);
    try {
      Process cli = new ProcessBuilder(command).redirectErrorStream(true).start();
      byte[] output = cli.getInputStream().readAllBytes();
      if (!cli.waitFor(30, TimeUnit.SECONDS)) {
        cli.destroyForcibly();
        throw new IllegalStateException("redis-cli " + args + " did not end in 30 s");
      }
      return new String(output, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + binary, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running redis-cli", e);
    }
  }

  /** Waits until {@code command} (split at spaces) answers with {@code expected} in it. */
  static String await(int port, String command, String expected, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = "";
    while (System.nanoTime() < deadline) {
      last = run(port, List.of(command.split(" ")));
      if (last.contains(expected)) {
        return last;
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for Redis", e);
      }
    }
    throw new IllegalStateException("Redis on port " + port + " did not answer '" + command
        + "' with '" + expected + "' within " + timeout + "; last: " + last);
  }
}
