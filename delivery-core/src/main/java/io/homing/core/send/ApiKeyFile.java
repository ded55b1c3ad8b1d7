package io.homing.core.send;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An API key file (the Send API's, the admin API's), read again whenever its content changes: an
 * operator adds, rotates or revokes a key by editing the file, without restarting the core. The
 * file is checked every {@link #CHECK_INTERVAL}; a version that cannot be read or parsed is
 * logged and ignored, and the keys read last stay in force. Thread-safe.
 */
public final class ApiKeyFile implements Closeable {
  /** How often the file is checked for a change. */
  public static final Duration CHECK_INTERVAL = Duration.ofSeconds(2);

  private static final Logger log = LoggerFactory.getLogger(ApiKeyFile.class);

  private final Path file;
  private final ScheduledExecutorService checks;
  private volatile ApiKeys keys;
  /** The content {@link #keys} were read from, or of the last version refused. */
  private byte[] seen;

  /** Reads the file, throwing when it cannot be used, and starts checking it for changes. */
  public ApiKeyFile(Path file) {
    this.file = file;
    try {
      this.seen = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read the API key file " + file, e);
    }
    this.keys = ApiKeys.parse(file, seen);
    this.checks = Executors.newSingleThreadScheduledExecutor(runnable -> {
      Thread thread = new Thread(runnable, "homing-api-keys");
      thread.setDaemon(true);
      return thread;
    });
    long millis = CHECK_INTERVAL.toMillis();
    checks.scheduleWithFixedDelay(this::check, millis, millis, TimeUnit.MILLISECONDS);
  }

  /** The keys in force now. */
  public ApiKeys keys() {
    return keys;
  }

  private void check() {
    byte[] content;
    try {
      content = Files.readAllBytes(file);
    } catch (IOException e) {
      log.warn("cannot read the API key file {} ({}): the keys read before stay", file,
          e.toString());
      return;
    }
    if (Arrays.equals(content, seen)) {
      return;
    }
    seen = content;
    try {
      keys = ApiKeys.parse(file, content);
      log.info("read the API key file {} again: {} key(s)", file, keys.size());
    } catch (RuntimeException e) {
      log.error("the API key file {} changed but cannot be used: {}; the keys read before "
          + "stay until it is fixed", file, e.getMessage());
    }
  }

  /** Stops checking the file. */
  @Override
  public void close() {
    checks.shutdownNow();
  }
}
