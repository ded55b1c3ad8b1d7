package io.homing.edge;

import io.homing.api.PresenceKeys;
import io.homing.api.PushTargets;
import io.homing.api.Topics;
import io.homing.edge.session.EdgeLimits;
import io.homing.edge.transport.TlsFiles;
import io.homing.runtime.auth.TokenSettings;
import io.homing.runtime.kafka.KafkaConnection;
import io.homing.runtime.redis.RedisConnection;
import io.homing.runtime.tls.InternalTls;
import io.homing.runtime.tls.ServerTls;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Everything an edge node is configured with. Immutable; validated when built.
 *
 * @param nodeId this node's id, unique in the cluster; names it in presence
 * @param clientAddress where clients connect: WebSocket at {@code /ws}, the HTTP fallback
 * @param tcpAddress where clients connect with the raw TCP transport
 * @param grpcAddress where delivery-core's delivery streams connect
 * @param metricsAddress where {@code /metrics} (Prometheus) and {@code /health} are served
 * @param advertisedGrpc the {@code host:port} core should dial to reach {@code grpcAddress}
 * @param redis how to reach the presence store
 * @param kafka how to reach Kafka, for publishing delivery events and client publishes
 * @param topics the deployment's Kafka topics
 * @param tokens how client tokens are verified: their keys, issuer and audience
 * @param authTimeout how long a new connection may take to send Auth
 * @param heartbeat how often clients are told to ping
 * @param idleTimeout a connection silent this long is closed
 * @param maxFrameBytes the largest client frame accepted
 * @param presenceTtl how long this node's liveness key lives without a refresh
 * @param keyPrefix prefix of every Redis key, see {@link io.homing.api.PresenceKeys}
 * @param tls the certificate and key every client transport serves TLS with, or null for none
 * @param corsOrigins the web origins ({@code scheme://host[:port]}) browsers may call the HTTP
 *     fallback from, or the one entry {@code *} for any; empty for no CORS headers
 * @param limits how much one client, user or address may ask of this node
 * @param webhookPrefixes what the URL of a webhook push target a client sets must start with;
 *     empty: clients may not set webhook targets
 * @param internalTls mutual TLS on the port core delivers through, or empty for plaintext
 * @param metricsTls the HTTPS of {@code metricsAddress}, or empty for plain HTTP
 */
public record EdgeConfig(
    String nodeId,
    InetSocketAddress clientAddress,
    InetSocketAddress tcpAddress,
    InetSocketAddress grpcAddress,
    InetSocketAddress metricsAddress,
    String advertisedGrpc,
    RedisConnection redis,
    KafkaConnection kafka,
    Topics topics,
    TokenSettings tokens,
    Duration authTimeout,
    Duration heartbeat,
    Duration idleTimeout,
    int maxFrameBytes,
    Duration presenceTtl,
    String keyPrefix,
    TlsFiles tls,
    List<String> corsOrigins,
    EdgeLimits limits,
    List<String> webhookPrefixes,
    Optional<InternalTls> internalTls,
    Optional<ServerTls> metricsTls) {
  private static final Pattern ORIGIN = Pattern.compile("https?://[^/\\s]+");

  /** Connections keep their last read time as int milliseconds, which wrap after 24 days. */
  public static final Duration MAX_IDLE_TIMEOUT = Duration.ofDays(1);

  public EdgeConfig {
    requireText("nodeId", nodeId);
    if (nodeId.contains("|")) {
      throw new IllegalArgumentException("nodeId: " + nodeId + " (expected: no '|')");
    }
    Objects.requireNonNull(clientAddress, "clientAddress");
    Objects.requireNonNull(tcpAddress, "tcpAddress");
    Objects.requireNonNull(grpcAddress, "grpcAddress");
    Objects.requireNonNull(metricsAddress, "metricsAddress");
    requireText("advertisedGrpc", advertisedGrpc);
    Objects.requireNonNull(redis, "redis");
    Objects.requireNonNull(kafka, "kafka");
    Objects.requireNonNull(topics, "topics");
    Objects.requireNonNull(tokens, "tokens");
    requirePositive("authTimeout", authTimeout);
    requirePositive("heartbeat", heartbeat);
    requirePositive("idleTimeout", idleTimeout);
    if (idleTimeout.compareTo(heartbeat) <= 0 || idleTimeout.compareTo(MAX_IDLE_TIMEOUT) > 0) {
      throw new IllegalArgumentException("idleTimeout: " + idleTimeout + " (expected: > heartbeat "
          + heartbeat + " and <= " + MAX_IDLE_TIMEOUT + ")");
    }
    if (maxFrameBytes < 1024) {
      throw new IllegalArgumentException("maxFrameBytes: " + maxFrameBytes + " (expected: >= 1024)");
    }
    requirePositive("presenceTtl", presenceTtl);
    PresenceKeys.checkPrefix(Objects.requireNonNull(keyPrefix, "keyPrefix"));
    Objects.requireNonNull(limits, "limits");
    Objects.requireNonNull(internalTls, "internalTls");
    Objects.requireNonNull(metricsTls, "metricsTls");
    webhookPrefixes = List.copyOf(webhookPrefixes);
    for (String prefix : webhookPrefixes) {
      String invalid = PushTargets.invalidPrefix(prefix);
      if (invalid != null) {
        throw new IllegalArgumentException("webhookPrefixes: " + invalid);
      }
    }
    corsOrigins = List.copyOf(corsOrigins);
    for (String origin : corsOrigins) {
      if (!(origin.equals("*") && corsOrigins.size() == 1) && !ORIGIN.matcher(origin).matches()) {
        throw new IllegalArgumentException("corsOrigins: '" + origin
            + "' (expected: scheme://host[:port] without a path, or * alone)");
      }
    }
  }

  private static void requireText(String name, String value) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(name + ": '" + value + "' (expected: not blank)");
    }
  }

  private static void requirePositive(String name, Duration value) {
    if (value == null || value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(name + ": " + value + " (expected: > 0)");
    }
  }
}
