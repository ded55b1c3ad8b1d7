package io.homing.testing;

import java.util.concurrent.TimeUnit;

/** What the local Redis Cluster and Sentinel share: killing their processes. */
final class LocalProcesses {
  private LocalProcesses() {}

  /** Kills the process (SIGKILL) and waits up to 10 s for it to end. */
  static void kill(Process process) {
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
