package io.homing.runtime;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a Homing process lives: it runs until asked to stop (SIGTERM, Ctrl-C), then closes its
 * server; or, should the server fail in a way it cannot recover from, closes it and exits with
 * {@link #FAILED} so that a supervisor restarts it — crash-only, state is recovered on start.
 */
public final class Lifecycle {
  /** Exit status of a process whose server failed (EX_SOFTWARE). */
  public static final int FAILED = 70;

  private static final Logger log = LoggerFactory.getLogger(Lifecycle.class);

  private Lifecycle() {}

  /**
   * Blocks until the JVM is asked to shut down (returns 0, the server closed by the shutdown
   * hook) or {@code failed} completes (returns {@link #FAILED}, the server closed).
   */
  public static int runUntilStopped(
      String name, AutoCloseable server, CompletableFuture<Throwable> failed)
      throws InterruptedException {
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      close(name, server);
      stopped.countDown();
    }, name + "-shutdown"));
    failed.thenRun(stopped::countDown);
    stopped.await();
    if (failed.isDone()) {
      log.error("{} failed, exiting with status {} to be restarted", name, FAILED,
          failed.join());
      close(name, server);
      return FAILED;
    }
    return 0;
  }

  /**
   * Runs {@code start}, which starts a server's parts one after the other; should one fail to
   * start (a port taken, Kafka or Redis unreachable or refusing the credentials), closes {@code
   * server} — whatever started before it — and rethrows.
   */
  public static void startOrClose(Runnable start, AutoCloseable server) {
    try {
      start.run();
    } catch (RuntimeException e) {
      try {
        server.close();
      } catch (Exception suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  private static void close(String name, AutoCloseable server) {
    try {
      server.close();
    } catch (Exception e) {
      log.warn("closing {} failed: {}", name, e.toString());
    }
  }
}
