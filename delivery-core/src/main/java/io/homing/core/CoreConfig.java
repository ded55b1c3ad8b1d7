package io.homing.core;

import io.homing.api.PresenceKeys;
import io.homing.api.Topics;
import io.homing.core.send.SendCredentials;
import io.homing.runtime.kafka.KafkaConnection;
import io.homing.runtime.redis.RedisConnection;
import io.homing.runtime.tls.InternalTls;
import io.homing.runtime.tls.ServerTls;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything a delivery-core instance is configured with. Immutable; validated when built.
 *
 * @param instanceId this instance's id, for logs and Kafka client ids
 * @param sendAddress where the public Send API listens
 * @param metricsAddress where {@code /metrics} (Prometheus) and {@code /health} are served
 * @param internalAddress where other cores call this one (GetStatus forwarding), under the same
 *     mutual TLS as the edges' internal API when {@code internalTls} is set
 * @param advertisedInternal the {@code host:port} other cores dial to reach
 *     {@code internalAddress}; empty for its host and bound port
 * @param kafka how to reach Kafka: bootstrap servers and the clients' security properties
 * @param topics the deployment's Kafka topics
 * @param groupId the consumer group all core instances of a deployment share
 * @param partitions partition count of {@code outbound} and {@code delivery-events} when created
 * @param replicationFactor replication factor of the topics when created
 * @param redis how to reach the presence store
 * @param keyPrefix prefix of every Redis key, the same as the edges'
 * @param dataDir where the offline store keeps its RocksDB files
 * @param maxPayloadBytes the largest payload the Send API accepts
 * @param sendCredentials what the Send API asks its callers for: API keys, client certificates,
 *     sender tokens, and its TLS
 * @param defaultTtl how long a message waits for its recipient when its producer set no TTL
 * @param delivery acks, resends and idempotency
 * @param queues the caps of each user's queue
 * @param devices which devices of a user hold messages back
 * @param commits how many pipelines, and how often they commit
 * @param sendLimits how fast one sender may call the Send API
 * @param receipts which messages get delivery receipts besides those asking, and their keys
 * @param notifications when core asks the notifier to notify users none of whose devices is connected
 * @param admin the admin API's port and operators' keys
 * @param internalTls mutual TLS to the edges, or empty for plaintext
 * @param metricsTls the HTTPS of {@code metricsAddress}, or empty for plain HTTP
 */
public record CoreConfig(
    String instanceId,
    InetSocketAddress sendAddress,
    InetSocketAddress metricsAddress,
    InetSocketAddress internalAddress,
    String advertisedInternal,
    KafkaConnection kafka,
    Topics topics,
    String groupId,
    int partitions,
    short replicationFactor,
    RedisConnection redis,
    String keyPrefix,
    Path dataDir,
    int maxPayloadBytes,
    SendCredentials sendCredentials,
    Duration defaultTtl,
    DeliveryPolicy delivery,
    QueueLimits queues,
    DeviceLimits devices,
    CommitPolicy commits,
    SendLimits sendLimits,
    ReceiptPolicy receipts,
    NotifyPolicy notifications,
    AdminApi admin,
    Optional<InternalTls> internalTls,
    Optional<ServerTls> metricsTls) {

  /** Above this, a payload no longer fits comfortably in one Kafka record. */
  public static final int PAYLOAD_LIMIT = 900 * 1024;

  public CoreConfig {
    requireText("instanceId", instanceId);
    Objects.requireNonNull(sendAddress, "sendAddress");
    Objects.requireNonNull(metricsAddress, "metricsAddress");
    Objects.requireNonNull(internalAddress, "internalAddress");
    Objects.requireNonNull(advertisedInternal, "advertisedInternal");
    Objects.requireNonNull(kafka, "kafka");
    Objects.requireNonNull(topics, "topics");
    requireText("groupId", groupId);
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions: " + partitions + " (expected: >= 1)");
    }
    if (replicationFactor < 1) {
      throw new IllegalArgumentException(
          "replicationFactor: " + replicationFactor + " (expected: >= 1)");
    }
    Objects.requireNonNull(redis, "redis");
    PresenceKeys.checkPrefix(Objects.requireNonNull(keyPrefix, "keyPrefix"));
    Objects.requireNonNull(dataDir, "dataDir");
    if (maxPayloadBytes < 1 || maxPayloadBytes > PAYLOAD_LIMIT) {
      throw new IllegalArgumentException(
          "maxPayloadBytes: " + maxPayloadBytes + " (expected: 1.." + PAYLOAD_LIMIT + ")");
    }
    if (defaultTtl == null || defaultTtl.isNegative() || defaultTtl.isZero()) {
      throw new IllegalArgumentException("defaultTtl: " + defaultTtl + " (expected: > 0)");
    }
    Objects.requireNonNull(delivery, "delivery");
    Objects.requireNonNull(queues, "queues");
    Objects.requireNonNull(devices, "devices");
    Objects.requireNonNull(commits, "commits");
    Objects.requireNonNull(sendCredentials, "sendCredentials");
    Objects.requireNonNull(sendLimits, "sendLimits");
    Objects.requireNonNull(receipts, "receipts");
    Objects.requireNonNull(notifications, "notifications");
    Objects.requireNonNull(admin, "admin");
    Objects.requireNonNull(internalTls, "internalTls");
    Objects.requireNonNull(metricsTls, "metricsTls");
  }

  private static void requireText(String name, String value) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(name + ": '" + value + "' (expected: not blank)");
    }
  }
}
