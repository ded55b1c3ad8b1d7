package io.homing.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code redis-server} process on a free loopback port, without persistence, so tests can
 * also stop it and start it again empty.
 *
 * <p>The binary is {@code $HOMING_REDIS_SERVER}, else {@code redis-server} on the PATH (Debian's
 * package; {@code .ci/run} installs it). {@link #shared()} starts one per JVM; tests keep apart
 * through unique user ids and node ids.
 *
 * <p>{@link #startSecure} starts one that takes TLS only, asks clients for a certificate of a
 * development CA, and lets in one ACL user alone, to the keys and channels of one prefix.
 */
public final class RedisServer implements AutoCloseable {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(10);
  private static RedisServer shared;

  private final int port;
  /** Null for a plaintext server without ACL users. */
  private final Security security;
  private Process process;

  /** TLS with the server's certificate, and the one ACL user. */
  private record Security(DevCertificates ca, DevCertificates.Identity certificate, String user,
      String password, String keyPrefix) {}

  private RedisServer(int port, Security security) {
    this.port = port;
    this.security = security;
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
    RedisServer server = new RedisServer(Ports.free(), null);
    server.startProcess();
    return server;
  }

  /**
   * Starts a new server on a free port that serves TLS only, with a certificate signed by {@code
   * ca}, and asks every client for a certificate of that CA. Its default user is off: {@code
   * user} with {@code password} is the one user, allowed every command but the dangerous ones
   * (Redis's {@code @dangerous}), on the keys and channels that start with {@code keyPrefix}.
   */
  public static RedisServer startSecure(
      DevCertificates ca, String user, String password, String keyPrefix) {
    RedisServer server = new RedisServer(Ports.free(),
        new Security(ca, ca.peerCertificate("redis"), user, password, keyPrefix));
    server.startProcess();
    return server;
  }

  /** {@code redis://127.0.0.1:port}, or {@code rediss://} for a secure server. */
  public String uri() {
    return (security == null ? "redis" : "rediss") + "://127.0.0.1:" + port;
  }

  public int port() {
    return port;
  }

  /** The one ACL user of a secure server; empty for a plaintext one. */
  public Optional<String> user() {
    return Optional.ofNullable(security).map(Security::user);
  }

  /** The password of {@link #user()}; empty for a plaintext server. */
  public Optional<String> password() {
    return Optional.ofNullable(security).map(Security::password);
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
    List<String> command = new ArrayList<>(List.of(binary, "--bind", "127.0.0.1",
        "--save", "", "--appendonly", "no"));
    if (security == null) {
      command.addAll(List.of("--port", Integer.toString(port)));
    } else {
      command.addAll(List.of("--port", "0", "--tls-port", Integer.toString(port),
          "--tls-cert-file", security.certificate().certificate().toString(),
          "--tls-key-file", security.certificate().privateKey().toString(),
          "--tls-ca-cert-file", security.ca().caCertificate().toString(),
          "--tls-auth-clients", "yes",
          "--user", "default", "off",
          "--user", security.user(), "on", ">" + security.password(),
          "~" + security.keyPrefix() + "*", "&" + security.keyPrefix() + "*",
          "+@all", "-@dangerous"));
    }
    try {
      Path log = Files.createTempFile("homing-redis-", ".log");
      process =
          new ProcessBuilder(command)
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
      if (security == null ? pingPlaintext() : pingSecure()) {
        return;
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

  private boolean pingPlaintext() {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
      socket.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
      byte[] reply = new byte[7];
      int n = socket.getInputStream().read(reply);
      return n > 0 && new String(reply, 0, n, StandardCharsets.US_ASCII).startsWith("+PONG");
    } catch (IOException notYet) {
      return false; // not listening yet
    }
  }

  /**
   * PING over TLS, as the user, with {@code redis-cli} (Debian's redis-tools), from the folder of
   * {@code $HOMING_REDIS_SERVER} when that is set.
   */
  private boolean pingSecure() throws IOException {
    String server = System.getenv("HOMING_REDIS_SERVER");
    String cliBinary = server == null ? "redis-cli"
        : Path.of(server).resolveSibling("redis-cli").toString();
    Process cli = new ProcessBuilder(cliBinary, "-h", "127.0.0.1", "-p", Integer.toString(port),
        "--tls", "--cacert", security.ca().caCertificate().toString(),
        "--cert", security.certificate().certificate().toString(),
        "--key", security.certificate().privateKey().toString(),
        "--user", security.user(), "--pass", security.password(), "--no-auth-warning", "PING")
        .redirectErrorStream(true).start();
    try {
      if (!cli.waitFor(5, TimeUnit.SECONDS)) {
        cli.destroyForcibly();
        return false;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while starting redis-server", e);
    }
    return new String(cli.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
        .startsWith("PONG");
  }
}
