package io.homing.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code redis-server} process on a free loopback port, without persistence, so tests can
 * also stop it and start it again empty.
 *
 * <p>The binary is {@code $HOMING_REDIS_SERVER}, else {@code redis-server} on the PATH (Debian's
 * package; {@code .ci/run} installs it). {@link #shared()} starts one per JVM; tests keep apart
 * through unique user ids and node ids.
 */
public final class RedisServer implements AutoCloseable {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(10);
  private static RedisServer shared;

  private final int port;
  private Process process;

  private RedisServer(int port) {
    this.port = port;
  }

  /** The server shared by every test of this JVM. */
  public static synchronized RedisServer shared() {
    if (shared == null) {
      RedisServer server = start();
      Runtime.getRuntime().addShutdownHook(new Thread(server::close, "redis-shutdown"));
      shared = server;
    }
    return shared;
  }

  /** Starts a new server on a free port. */
  public static RedisServer start() {
    RedisServer server = new RedisServer(Ports.free());
    server.startProcess();
    return server;
  }

  /** {@code redis://127.0.0.1:port}. */
  public String uri() {
    return "redis://127.0.0.1:" + port;
  }

  public int port() {
    return port;
  }

  /** Kills the server (SIGKILL): everything it held is gone. */
  public synchronized void kill() {
    if (process != null) {
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      process = null;
    }
  }

  /** Starts the server again, empty, on the same port. */
  public synchronized void restart() {
    kill();
    startProcess();
  }

  @Override
  public synchronized void close() {
    kill();
  }

  private synchronized void startProcess() {
    String binary = System.getenv().getOrDefault("HOMING_REDIS_SERVER", "redis-server");
    try {
      Path log = Files.createTempFile("homing-redis-", ".log");
      process =
          new ProcessBuilder(
                  List.of(
                      binary, "--port", Integer.toString(port), "--bind", "127.0.0.1",
                      "--save", "", "--appendonly", "no"))
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      awaitPing(log);
    } catch (IOException e) {
      throw new IllegalStateException(
          "cannot start " + binary + " (install Debian's redis-server, or set HOMING_REDIS_SERVER)",
          e);
    }
  }

  private void awaitPing(Path log) throws IOException {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "redis-server exited: " + Files.readString(log, StandardCharsets.UTF_8));
      }
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
        socket.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
        byte[] reply = new byte[7];
        int n = socket.getInputStream().read(reply);
        if (n > 0 && new String(reply, 0, n, StandardCharsets.US_ASCII).startsWith("+PONG")) {
          return;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while starting redis-server", e);
      }
    }
    process.destroyForcibly();
    throw new UncheckedIOException(new IOException("redis-server did not answer PING in time"));
  }
}
