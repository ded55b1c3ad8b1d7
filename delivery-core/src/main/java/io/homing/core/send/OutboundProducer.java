package io.homing.core.send;

import io.homing.api.v1.OutboundMessage;
import io.homing.runtime.kafka.KafkaConnection;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Writes messages to {@code outbound}, keyed by recipient (and the admin API's events to
 * {@code delivery-events}); idempotent, acks=all. Thread-safe.
 */
public final class OutboundProducer implements AutoCloseable {
  private final String topic;
  private final KafkaProducer<String, byte[]> producer;

  public OutboundProducer(KafkaConnection kafka, String topic, String clientId) {
    this.topic = topic;
    Map<String, Object> config = kafka.clientConfig();
    config.putAll(Map.of(
        ProducerConfig.CLIENT_ID_CONFIG, clientId,
        ProducerConfig.ACKS_CONFIG, "all",
        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
        ProducerConfig.LINGER_MS_CONFIG, 1,
        ProducerConfig.MAX_BLOCK_MS_CONFIG, 5_000,
        ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 15_000,
        ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000));
    this.producer = new KafkaProducer<>(config, new StringSerializer(), new ByteArraySerializer());
  }

  /** Completes when Kafka has the record; fails when it could not take it in time. */
  public CompletableFuture<RecordMetadata> send(OutboundMessage message) {
    return send(topic, message.getUserId(), message.toByteArray());
  }

  /**
   * Writes a record to another topic the same way: the admin API's events to
   * {@code delivery-events}, keyed by their user.
   */
  public CompletableFuture<RecordMetadata> send(String topic, String key, byte[] value) {
    CompletableFuture<RecordMetadata> result = new CompletableFuture<>();
    try {
      producer.send(new ProducerRecord<>(topic, key, value), (metadata, error) -> {
        if (error != null) {
          result.completeExceptionally(error);
        } else {
          result.complete(metadata);
        }
      });
    } catch (RuntimeException e) {
      result.completeExceptionally(e);
    }
    return result;
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(5));
  }
}
