package io.homing.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;

/** Removing the temporary folders tests made. */
public final class TempFolders {
  private TempFolders() {}

  /** Deletes the folder and everything in it, as far as it can; what stays is left behind. */
  public static void deleteQuietly(Path dir) {
    try (var files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(file -> file.toFile().delete());
    } catch (IOException e) {
      // a temporary folder left behind
    }
  }
}
