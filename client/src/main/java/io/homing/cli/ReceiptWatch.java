package io.homing.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import io.homing.api.v1.DeliveryReceipt;
import io.homing.runtime.kafka.KafkaConnection;
import java.io.PrintStream;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Follows {@code delivery-receipts} for one message, from the end of the topic as it stood before
 * the message was sent, and prints each receipt of it as it comes, until every recipient acked it
 * on a device, or a recipient's copy was rejected, removed or expired.
 */
final class ReceiptWatch implements AutoCloseable {
  /** How it ended. */
  enum Result {
    /** Every recipient acked the message on at least one device. */
    DELIVERED,
    /** A recipient's copy was rejected, removed or expired (it stops at the first). */
    FAILED,
    /** The time ran out first. */
    TIMED_OUT
  }

  private final KafkaConsumer<byte[], byte[]> consumer;

  /** Opens a read-committed consumer on every partition of the topic, at its end. */
  ReceiptWatch(KafkaConnection kafka, String topic) {
    Map<String, Object> config = kafka.clientConfig();
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    config.put(ConsumerConfig.CLIENT_ID_CONFIG, "homing-cli-receipts");
    this.consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(),
        new ByteArrayDeserializer());
    try {
      List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30))
          .stream().map(p -> new TopicPartition(topic, p.partition())).toList();
      if (partitions.isEmpty()) {
        throw new IllegalStateException("topic " + topic + " not found: is core running?");
      }
      consumer.assign(partitions);
      consumer.seekToEnd(partitions);
      partitions.forEach(consumer::position); // fixes where it starts: before the send
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /**
   * Prints the receipts of {@code messageId} for the recipients as they come, until each copy
   * ended or {@code timeout} passed.
   */
  Result await(String messageId, Set<String> recipients, Duration timeout, PrintStream out) {
    Set<String> acked = new HashSet<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (acked.size() < recipients.size()) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return Result.TIMED_OUT;
      }
      for (ConsumerRecord<byte[], byte[]> record
          : consumer.poll(Duration.ofNanos(Math.min(left, Duration.ofMillis(200).toNanos())))) {
        DeliveryReceipt receipt;
        try {
          receipt = DeliveryReceipt.parseFrom(record.value());
        } catch (InvalidProtocolBufferException e) {
          continue; // not ours to judge
        }
        if (!receipt.getMessageId().equals(messageId)
            || !recipients.contains(receipt.getUserId())) {
          continue;
        }
        out.println("  " + describe(receipt));
        switch (receipt.getState()) {
          case ACKED -> acked.add(receipt.getUserId());
          case REJECTED, REMOVED, EXPIRED -> {
            return Result.FAILED;
          }
          default -> { }
        }
      }
    }
    return Result.DELIVERED;
  }

  static String describe(DeliveryReceipt receipt) {
    String who = receipt.getDeviceId().isEmpty() ? receipt.getUserId()
        : receipt.getUserId() + "/" + receipt.getDeviceId();
    return who + ": " + receipt.getState() + " seq " + receipt.getSeq()
        + (receipt.getNodeId().isEmpty() ? "" : " on " + receipt.getNodeId());
  }

  @Override
  public void close() {
    consumer.close(CloseOptions.timeout(Duration.ofSeconds(2)));
  }
}
