package io.homing.runtime.kafka;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.common.errors.AuthenticationException;

/**
 * How a process reaches Kafka: the bootstrap servers, and the client properties that secure the
 * connection — every {@code security.*} ({@code security.protocol}), {@code ssl.*} and
 * {@code sasl.*} property — passed to each of its producers, consumers and admin clients as
 * given (docs/security.md).
 * Other properties are refused: Homing sets them itself, and its guarantees rest on them.
 * Immutable; {@link #toString} hides values that may hold secrets.
 *
 * @param bootstrapServers {@code bootstrap.servers}
 * @param security the security properties, by name
 */
public record KafkaConnection(String bootstrapServers, Map<String, String> security) {
  private static final List<String> PREFIXES = List.of("security.", "ssl.", "sasl.");
  private static final String PROTOCOL = "security.protocol";

  public KafkaConnection {
    if (bootstrapServers == null || bootstrapServers.isBlank()) {
      throw new IllegalArgumentException(
          "bootstrapServers: '" + bootstrapServers + "' (expected: host:port[,host:port...])");
    }
    security = Collections.unmodifiableMap(new TreeMap<>(security));
    for (Map.Entry<String, String> property : security.entrySet()) {
      String name = property.getKey();
      if (PREFIXES.stream().noneMatch(name::startsWith)) {
        throw new IllegalArgumentException("Kafka property '" + name + "' (expected: "
            + "security.*, ssl.* or sasl.*; Homing sets the other client properties itself)");
      }
      Objects.requireNonNull(property.getValue(), name);
    }
  }

  /** Plaintext and unauthenticated: Kafka's defaults. */
  public static KafkaConnection plaintext(String bootstrapServers) {
    return new KafkaConnection(bootstrapServers, Map.of());
  }

  /**
   * The connection configured by a properties file (Kafka's client format, as for its tools'
   * {@code --command-config}) and then {@code name=value} assignments, which win over the file.
   *
   * @throws IllegalArgumentException naming the file or assignment that cannot be used
   */
  public static KafkaConnection load(
      String bootstrapServers, Optional<Path> file, List<String> assignments) {
    Map<String, String> security = new HashMap<>();
    if (file.isPresent()) {
      Properties properties = new Properties();
      try (Reader in = Files.newBufferedReader(file.get(), StandardCharsets.UTF_8)) {
        properties.load(in);
      } catch (IOException | IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "cannot read the Kafka client properties " + file.get() + ": " + e.getMessage(), e);
      }
      properties.stringPropertyNames().forEach(n -> security.put(n, properties.getProperty(n)));
    }
    for (String assignment : assignments) {
      int equals = assignment.indexOf('=');
      if (equals < 1) {
        throw new IllegalArgumentException(
            "Kafka property '" + assignment + "' (expected: name=value)");
      }
      security.put(assignment.substring(0, equals).trim(), assignment.substring(equals + 1));
    }
    return new KafkaConnection(bootstrapServers, security);
  }

  /** A new, modifiable client configuration: the bootstrap servers and the security properties. */
  public Map<String, Object> clientConfig() {
    Map<String, Object> config = new HashMap<>(security);
    config.put("bootstrap.servers", bootstrapServers);
    return config;
  }

  /**
   * Logs in to Kafka once, with an admin client, so that a process Kafka refuses — credentials,
   * a TLS handshake — fails at start and says why, rather than running without its events. A
   * Kafka that does not answer within {@code timeout} is no error here: the clients wait for it.
   *
   * @return whether Kafka answered
   * @throws IllegalStateException when Kafka refused the login
   */
  public boolean checkLogin(Duration timeout) {
    Map<String, Object> config = clientConfig();
    config.put("client.id", "homing-login-check");
    Admin admin = Admin.create(config);
    try {
      admin.describeCluster(new DescribeClusterOptions().timeoutMs((int) timeout.toMillis()))
          .clusterId().get(timeout.toMillis() + 1_000, TimeUnit.MILLISECONDS);
      return true;
    } catch (ExecutionException e) {
      if (e.getCause() instanceof AuthenticationException) {
        throw new IllegalStateException(
            "Kafka " + this + " refused the login: " + e.getCause(), e.getCause());
      }
      return false;
    } catch (TimeoutException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } finally {
      admin.close(Duration.ofSeconds(1));
    }
  }

  /** {@code security.protocol}, PLAINTEXT when not set. */
  public String protocol() {
    return security.getOrDefault(PROTOCOL, "PLAINTEXT");
  }

  @Override
  public String toString() {
    return bootstrapServers + " (" + protocol() + ", properties " + security.keySet() + ")";
  }
}
