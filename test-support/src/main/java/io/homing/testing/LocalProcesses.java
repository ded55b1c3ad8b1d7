package io.homing.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;

/** What the local Redis Cluster and Sentinel share: killing their processes, removing a folder. */
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

  /** Deletes the folder and everything in it, as far as it can. */
  static void deleteFolder(Path dir) {
    try (var files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(file -> file.toFile().delete());
    } catch (IOException e) {
      // a temporary folder left behind
    }
  }
}
