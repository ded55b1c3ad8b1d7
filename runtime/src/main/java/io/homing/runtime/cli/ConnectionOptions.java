package io.homing.runtime.cli;

import io.homing.runtime.kafka.KafkaConnection;
import io.homing.runtime.redis.RedisConnection;
import io.homing.runtime.tls.InternalTls;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Help.Visibility;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The options of how a service reaches Kafka, Redis and its peers, with their security
 * (docs/security.md): a picocli mixin of core and edges, so both take the same flags and
 * environment variables.
 */
public final class ConnectionOptions {
  @Mixin KafkaOptions kafka;

  // Not shown as a default in --help: the URL from the environment may hold a password.
  @Option(names = "--redis", defaultValue = "${env:REDIS_URL:-redis://127.0.0.1:6379}",
      showDefaultValue = Visibility.NEVER,
      description = "Presence store: redis://host:port, or rediss://host:port for TLS; a Redis "
          + "Cluster as redis-cluster://host:port[,host:port...] (rediss-cluster:// for TLS); "
          + "Sentinel as redis-sentinel://host:port[,host:port...]#master; default "
          + "redis://127.0.0.1:6379 (env REDIS_URL).")
  String redis;

  @Option(names = "--redis-user", defaultValue = "${env:HOMING_REDIS_USER:-}",
      description = "Redis ACL user; with --redis-password (env HOMING_REDIS_USER).")
  String redisUser;

  @Option(names = "--redis-password", defaultValue = "${env:HOMING_REDIS_PASSWORD:-}",
      showDefaultValue = Visibility.NEVER,
      description = "Redis password, of --redis-user or the default user; prefer the "
          + "environment, which other users of the host cannot read (env HOMING_REDIS_PASSWORD).")
  String redisPassword;

  @Option(names = "--redis-tls-ca", defaultValue = "${env:HOMING_REDIS_TLS_CA:-}",
      description = "PEM CA certificates a rediss:// server's certificate must chain to; "
          + "default: the JDK's trust store (env HOMING_REDIS_TLS_CA).")
  String redisTlsCa;

  @Option(names = "--redis-tls-cert", defaultValue = "${env:HOMING_REDIS_TLS_CERT:-}",
      description = "PEM client certificate for a Redis that asks for one (tls-auth-clients) "
          + "(env HOMING_REDIS_TLS_CERT).")
  String redisTlsCert;

  @Option(names = "--redis-tls-key", defaultValue = "${env:HOMING_REDIS_TLS_KEY:-}",
      description = "PKCS#8 PEM key of --redis-tls-cert (env HOMING_REDIS_TLS_KEY).")
  String redisTlsKey;

  @Option(names = "--internal-tls-ca", defaultValue = "${env:HOMING_INTERNAL_TLS_CA:-}",
      description = "PEM CA certificates of Homing's own processes: with --internal-tls-cert and "
          + "--internal-tls-key, core and edges talk over mutual TLS, each refusing a peer whose "
          + "certificate does not chain to these (env HOMING_INTERNAL_TLS_CA).")
  String internalTlsCa;

  @Option(names = "--internal-tls-cert", defaultValue = "${env:HOMING_INTERNAL_TLS_CERT:-}",
      description = "PEM certificate chain of this process, for mutual TLS between core and "
          + "edges; read again every minute, once it and its key both changed "
          + "(env HOMING_INTERNAL_TLS_CERT).")
  String internalTlsCert;

  @Option(names = "--internal-tls-key", defaultValue = "${env:HOMING_INTERNAL_TLS_KEY:-}",
      description = "PKCS#8 PEM key of --internal-tls-cert (env HOMING_INTERNAL_TLS_KEY).")
  String internalTlsKey;

  /** How to reach Kafka; fails with IllegalArgumentException on a property it cannot use. */
  public KafkaConnection kafka() {
    return kafka.kafka();
  }

  /** How to reach Redis; fails with IllegalArgumentException on options that do not fit. */
  public RedisConnection redis() {
    return new RedisConnection(redis, given(redisUser), given(redisPassword),
        given(redisTlsCa).map(Path::of), given(redisTlsCert).map(Path::of),
        given(redisTlsKey).map(Path::of));
  }

  /**
   * Mutual TLS with the other processes, when configured.
   *
   * @param serverName what core expects in an edge's certificate in place of its host, if given
   */
  public Optional<InternalTls> internalTls(Optional<String> serverName) {
    List<String> files = List.of(internalTlsCa, internalTlsCert, internalTlsKey);
    long given = files.stream().filter(f -> !f.isBlank()).count();
    if (given == 0) {
      if (serverName.isPresent()) {
        throw new IllegalArgumentException(
            "--internal-tls-server-name needs --internal-tls-ca, --internal-tls-cert and "
                + "--internal-tls-key");
      }
      return Optional.empty();
    }
    if (given != files.size()) {
      throw new IllegalArgumentException("--internal-tls-ca, --internal-tls-cert and "
          + "--internal-tls-key go together (expected: all three or none)");
    }
    return Optional.of(new InternalTls(Path.of(internalTlsCa), Path.of(internalTlsCert),
        Path.of(internalTlsKey), serverName));
  }

  private static Optional<String> given(String value) {
    return value == null || value.isBlank() ? Optional.empty() : Optional.of(value);
  }
}
