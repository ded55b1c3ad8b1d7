package io.homing.core.send;

import io.homing.api.ApiKey;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The Send API's senders and their API keys ({@link ApiKey}), from a key file (docs/security.md).
 * One sender per line — its name, the SHA-256 of its key in hex, the users it may send to
 * (comma-separated patterns, see {@link Sender}); a line that starts with {@code #} is a comment:
 *
 * <pre>
 * # name   sha256(key)                                                        recipients
 * billing  59d5c0d99cd1732a0fe6f1ea51e3168fa81c107d36284d1343034ddf95d90fd8  billing-*,shop-*
 * ops      7abfae087ca085ddb89aea69fa7fd74af7215a725e068271d9eaca05780e69b4  *
 * </pre>
 *
 * <p>The file holds hashes, never keys: reading it does not let anyone call the API, as long as
 * the keys are random ({@link ApiKey#generate}) rather than words one could guess. A sender may
 * have several lines, one per key, so that a key is rotated by adding the new one, moving the
 * callers over and removing the old one ({@link ApiKeyFile} reads the file again when it
 * changes). Immutable, thread-safe.
 */
public final class ApiKeys {
  /** SHA-256 of the key, hex → its sender. */
  private final Map<String, Sender> byHash;

  private ApiKeys(Map<String, Sender> byHash) {
    this.byHash = Map.copyOf(byHash);
  }

  /** Reads the key file; throws IllegalArgumentException naming the line that is wrong. */
  public static ApiKeys read(Path file) {
    try {
      return parse(file, Files.readAllBytes(file));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the Send API key file " + file, e);
    }
  }

  /**
   * The keys of the key file's content, as read from {@code file}; throws
   * IllegalArgumentException naming the line that is wrong.
   */
  static ApiKeys parse(Path file, byte[] content) {
    List<String> lines = new String(content, StandardCharsets.UTF_8).lines().toList();
    Map<String, Sender> byHash = new HashMap<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String[] fields = line.split("\\s+");
      String where = file + ":" + (i + 1) + ": ";
      if (fields.length != 3) {
        throw new IllegalArgumentException(where + "expected: name sha256-hex recipients");
      }
      String hash = fields[1].toLowerCase(Locale.ROOT);
      if (hash.length() != 64 || !hash.chars().allMatch(HexFormat::isHexDigit)) {
        throw new IllegalArgumentException(
            where + "'" + fields[1] + "' (expected: the key's SHA-256, 64 hex digits)");
      }
      String invalid = ApiKey.invalidSender(fields[0], fields[2]);
      if (invalid != null) {
        throw new IllegalArgumentException(where + invalid);
      }
      if (byHash.put(hash, new Sender(fields[0], Arrays.asList(fields[2].split(",")))) != null) {
        throw new IllegalArgumentException(where + "the same key as an earlier line");
      }
    }
    if (byHash.isEmpty()) {
      throw new IllegalArgumentException(file + ": no sender (expected: at least one line)");
    }
    return new ApiKeys(byHash);
  }

  /** The key's sender, or null when no sender has this key. */
  public Sender sender(String key) {
    return byHash.get(ApiKey.hash(key));
  }

  /** How many keys there are. */
  public int size() {
    return byHash.size();
  }
}
