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
 * The Send API's senders and their API keys ({@link ApiKey}) or client certificates, from a key
 * file (docs/security.md). One credential per line — the sender's name, the SHA-256 of its key in
 * hex or the word {@code cert}, the users it may send to (comma-separated patterns, see {@link
 * Sender}); a line that starts with {@code #} is a comment:
 *
 * <pre>
 * # name   sha256(key) or cert                                                recipients
 * billing  59d5c0d99cd1732a0fe6f1ea51e3168fa81c107d36284d1343034ddf95d90fd8  billing-*,shop-*
 * ops      7abfae087ca085ddb89aea69fa7fd74af7215a725e068271d9eaca05780e69b4  *
 * crm      cert                                                              crm-*
 * </pre>
 *
 * <p>{@code cert} lets the callers whose verified client certificate names the sender — as its
 * subject's CN, or as a DNS or URI subject alternative name — send as it (mutual TLS, {@link
 * SendAuthentication}).
 *
 * <p>The file holds hashes, never keys: reading it does not let anyone call the API, as long as
 * the keys are random ({@link ApiKey#generate}) rather than words one could guess. A sender may
 * have several lines, one per key, so that a key is rotated by adding the new one, moving the
 * callers over and removing the old one ({@link ApiKeyFile} reads the file again when it
 * changes). Immutable, thread-safe.
 */
public final class ApiKeys {
  /** The credential field of a line that names a client certificate rather than a key. */
  public static final String CERTIFICATE = "cert";

  /** SHA-256 of the key, hex → its sender. */
  private final Map<String, Sender> byHash;
  /** The name a client certificate carries → its sender. */
  private final Map<String, Sender> byCertificate;

  private ApiKeys(Map<String, Sender> byHash, Map<String, Sender> byCertificate) {
    this.byHash = Map.copyOf(byHash);
    this.byCertificate = Map.copyOf(byCertificate);
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
    Map<String, Sender> byCertificate = new HashMap<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String[] fields = line.split("\\s+");
      String where = file + ":" + (i + 1) + ": ";
      if (fields.length != 3) {
        throw new IllegalArgumentException(
            where + "expected: name sha256-hex|" + CERTIFICATE + " recipients");
      }
      String invalid = ApiKey.invalidSender(fields[0], fields[2]);
      if (invalid != null) {
        throw new IllegalArgumentException(where + invalid);
      }
      Sender sender = new Sender(fields[0], Arrays.asList(fields[2].split(",")));
      if (fields[1].equals(CERTIFICATE)) {
        if (byCertificate.put(sender.name(), sender) != null) {
          throw new IllegalArgumentException(
              where + "a second " + CERTIFICATE + " line for sender " + sender.name());
        }
        continue;
      }
      String hash = fields[1].toLowerCase(Locale.ROOT);
      if (hash.length() != 64 || !hash.chars().allMatch(HexFormat::isHexDigit)) {
        throw new IllegalArgumentException(where + "'" + fields[1]
            + "' (expected: the key's SHA-256, 64 hex digits, or " + CERTIFICATE + ")");
      }
      if (byHash.put(hash, sender) != null) {
        throw new IllegalArgumentException(where + "the same key as an earlier line");
      }
    }
    if (byHash.isEmpty() && byCertificate.isEmpty()) {
      throw new IllegalArgumentException(file + ": no sender (expected: at least one line)");
    }
    return new ApiKeys(byHash, byCertificate);
  }

  /** The key's sender, or null when no sender has this key. */
  public Sender sender(String key) {
    return byHash.get(ApiKey.hash(key));
  }

  /**
   * The sender of a verified client certificate that carries these names, or null when no {@code
   * cert} line names one of them.
   */
  public Sender certificateSender(List<String> names) {
    for (String name : names) {
      Sender sender = byCertificate.get(name);
      if (sender != null) {
        return sender;
      }
    }
    return null;
  }

  /** How many credentials there are: keys and certificate senders. */
  public int size() {
    return byHash.size() + byCertificate.size();
  }
}
