package io.homing.loadtest;

import com.google.protobuf.ByteString;
import io.homing.api.v1.Message;
import io.homing.api.v1.OutboundMessage;
import io.homing.runtime.kafka.KafkaConnection;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.LongAdder;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Publishes with a plain Kafka producer, keyed by user id: as {@code OutboundMessage} to Homing's
 * {@code outbound}, or as the raw payload to a baseline topic. Both use the same producer
 * settings, so their figures compare.
 */
final class KafkaSink implements Sink {
  private final KafkaProducer<String, byte[]> producer;
  private final String topic;
  private final boolean raw;
  private final boolean receipts;
  private final LongAdder failures = new LongAdder();

  /** @param receipts whether each message asks for delivery receipts (not for raw payloads) */
  KafkaSink(KafkaConnection kafka, String topic, boolean raw, boolean receipts) {
    this.receipts = receipts;
    this.producer = new KafkaProducer<>(producerConfig(kafka), new StringSerializer(),
        new ByteArraySerializer());
    this.topic = topic;
    this.raw = raw;
  }

  /** The producer settings of every scenario. */
  static Map<String, Object> producerConfig(KafkaConnection kafka) {
    Map<String, Object> config = kafka.clientConfig();
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    config.put(ProducerConfig.LINGER_MS_CONFIG, 2);
    config.put(ProducerConfig.BATCH_SIZE_CONFIG, 64 * 1024);
    config.put(ProducerConfig.CLIENT_ID_CONFIG, "homing-loadtest");
    return config;
  }

  @Override
  public void publish(String userId, byte[] payload) {
    byte[] value =
        raw
            ? payload
            : OutboundMessage.newBuilder()
                .setUserId(userId)
                .setMessage(
                    Message.newBuilder()
                        .setMessageId(UUID.randomUUID().toString())
                        .setPayload(ByteString.copyFrom(payload))
                        .setContentType("application/octet-stream")
                        .setCreatedAtMs(System.currentTimeMillis())
                        .setReceipts(receipts))
                .build()
                .toByteArray();
    producer.send(
        new ProducerRecord<>(topic, userId, value),
        (metadata, error) -> {
          if (error != null) {
            failures.increment();
          }
        });
  }

  @Override
  public long failures() {
    return failures.sum();
  }

  @Override
  public void flush() {
    producer.flush();
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(10));
  }
}
