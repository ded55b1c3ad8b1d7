package io.homing.core.state;

import io.homing.api.Topics;
import io.homing.api.v1.DeliveryReceipt;
import io.homing.api.v1.NotificationRequest;
import io.homing.core.ReceiptPolicy;
import io.homing.runtime.kafka.KafkaConnection;
import io.homing.store.OfflineStore;
import io.homing.store.PartitionState;
import io.homing.store.StoreChange;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * The offline store's changelog: a compacted topic, co-partitioned with {@code outbound}, that
 * holds every change of partition p's store in partition p, so that whichever core instance is
 * assigned p can rebuild p's queues — as Kafka Streams does with its state stores.
 *
 * <p>Each round of the stores' transactions is written in one Kafka transaction together with the
 * consumer offsets of the records it applied ({@code sendOffsetsToTransaction} with the group's
 * metadata, exactly-once v2): the changes and the offsets become visible together or not at all,
 * and an instance that lost its partitions without noticing (a zombie) is fenced by the group
 * coordinator before its changes count. The local stores are written only after the transaction
 * committed, so a local store is never ahead of its changelog; it may be behind (a crash between
 * the two), which the restore on the next assignment repairs. The delivery receipts the
 * transactions publish go to {@code delivery-receipts}, and the notification requests to
 * {@code notifications}, in the same Kafka transaction: a receipt is visible to a read-committed
 * consumer exactly when the change it reports is durable, a request when the state it was
 * decided on is.
 *
 * <p>Threads: {@link #write} on the {@link Committer}'s thread, one round at a time; restoring on
 * the pipeline thread, while no round is in flight.
 */
public final class Changelog implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Changelog.class);
  /** A transaction left open by a dead instance is aborted after this, unblocking restores. */
  static final Duration TRANSACTION_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration RESTORE_POLL = Duration.ofMillis(200);

  private final String topic;
  private final String receiptsTopic;
  private final String notificationsTopic;
  private final ReceiptPolicy receipts;
  private final KafkaProducer<byte[], byte[]> producer;
  private final KafkaConsumer<byte[], byte[]> restorer;
  private final Counter written;
  private final Counter receiptsWritten;
  private final Counter notificationsWritten;
  private final Counter restored;
  private final Timer transactionTimer;
  private volatile boolean closing;

  /**
   * @param transactionalId unique per core instance and stable across its restarts: a restarted
   *     instance aborts what its previous life left open
   */
  public Changelog(KafkaConnection kafka, Topics topics, ReceiptPolicy receipts,
      String transactionalId, MeterRegistry meters) {
    this.topic = topics.storeChangelog();
    this.receiptsTopic = topics.deliveryReceipts();
    this.notificationsTopic = topics.notifications();
    this.receipts = receipts;
    Map<String, Object> producerConfig = kafka.clientConfig();
    producerConfig.put(ProducerConfig.CLIENT_ID_CONFIG, transactionalId);
    producerConfig.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    producerConfig.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG,
        (int) TRANSACTION_TIMEOUT.toMillis());
    producerConfig.put(ProducerConfig.ACKS_CONFIG, "all");
    producerConfig.put(ProducerConfig.LINGER_MS_CONFIG, 0);
    this.producer = new KafkaProducer<>(producerConfig, new ByteArraySerializer(),
        new ByteArraySerializer());
    Map<String, Object> consumerConfig = kafka.clientConfig();
    consumerConfig.put(ConsumerConfig.CLIENT_ID_CONFIG, transactionalId + "-restore");
    consumerConfig.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    consumerConfig.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    consumerConfig.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 10_000);
    this.restorer = new KafkaConsumer<>(consumerConfig, new ByteArrayDeserializer(),
        new ByteArrayDeserializer());
    this.written = Counter.builder("homing.changelog.records")
        .description("Store changes written to the changelog").register(meters);
    this.receiptsWritten = Counter.builder("homing.receipts.published")
        .description("Delivery receipts published to " + receiptsTopic).register(meters);
    this.notificationsWritten = Counter.builder("homing.notifications.requested")
        .description("Notification requests published to " + notificationsTopic)
        .register(meters);
    this.transactionTimer = Timer.builder("homing.changelog.transactions")
        .description("Changelog transactions committed, and how long each took from begin")
        .register(meters);
    this.restored = Counter.builder("homing.changelog.restored")
        .description("Store changes read back from the changelog to rebuild a partition's store")
        .register(meters);
    long started = System.nanoTime();
    producer.initTransactions(); // fences this instance's previous life, aborting what it left
    log.info("changelog {} ready for transactions as {} in {} ms", topic, transactionalId,
        (System.nanoTime() - started) / 1_000_000);
  }

  /**
   * Writes the transactions, one per store partition, their receipts and the consumer offsets in
   * one Kafka transaction; once it committed, writes each to its local store with how far the changelog
   * now holds the partition. A broker that is away is waited for. Called by the {@link Committer}
   * thread, one round at a time.
   *
   * @throws KafkaException when the transaction failed: nothing of it counts, and this instance
   *     must stop applying (it may no longer own the partitions)
   */
  void write(Map<Integer, PartitionState.Transaction> transactions,
      Map<TopicPartition, OffsetAndMetadata> offsets, ConsumerGroupMetadata group) {
    long started = System.nanoTime();
    producer.beginTransaction();
    try {
      Map<Integer, Future<RecordMetadata>> last = new HashMap<>();
      int count = 0;
      for (Map.Entry<Integer, PartitionState.Transaction> entry : transactions.entrySet()) {
        for (StoreChange change : entry.getValue().changes()) {
          last.put(entry.getKey(), producer.send(new ProducerRecord<>(topic, entry.getKey(),
              change.changelogKey(), change.value())));
          count++;
        }
      }
      int published = 0;
      for (PartitionState.Transaction transaction : transactions.values()) {
        for (DeliveryReceipt receipt : transaction.receipts()) {
          producer.send(new ProducerRecord<>(receiptsTopic, receipts.keyOf(receipt),
              receipt.toByteArray()));
          published++;
        }
      }
      int requested = 0;
      for (PartitionState.Transaction transaction : transactions.values()) {
        for (NotificationRequest request : transaction.notifications()) {
          producer.send(new ProducerRecord<>(notificationsTopic,
              request.getUserId().getBytes(StandardCharsets.UTF_8), request.toByteArray()));
          requested++;
        }
      }
      if (!offsets.isEmpty()) {
        producer.sendOffsetsToTransaction(offsets, group);
      }
      commit();
      transactionTimer.record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
      written.increment(count);
      receiptsWritten.increment(published);
      notificationsWritten.increment(requested);
      long now = System.currentTimeMillis();
      for (Map.Entry<Integer, PartitionState.Transaction> entry : transactions.entrySet()) {
        Future<RecordMetadata> logged = last.get(entry.getKey());
        PartitionState.Transaction transaction = entry.getValue();
        transaction.writeLocally(logged != null ? logged.get().offset() + 1
            : transaction.storedChangelogPosition(), now);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaException("interrupted while writing the changelog", e);
    } catch (ExecutionException e) {
      throw new KafkaException("changelog write failed after its transaction committed",
          e.getCause());
    } catch (KafkaException e) {
      abortQuietly();
      throw e;
    }
  }

  /** Commits the open transaction, retrying while the broker does not answer in time. */
  private void commit() {
    while (true) {
      try {
        producer.commitTransaction();
        return;
      } catch (TimeoutException e) {
        if (closing) {
          throw e;
        }
        log.warn("changelog transaction not committed in time, retrying: {}", e.getMessage());
      }
    }
  }

  private void abortQuietly() {
    try {
      producer.abortTransaction();
    } catch (KafkaException e) {
      log.debug("cannot abort the changelog transaction: {}", e.toString());
    }
  }

  /** The first and the next offset of the partition's changelog, as read-committed sees them. */
  record Extent(long start, long end) {}

  Extent extent(int partition) {
    TopicPartition tp = new TopicPartition(topic, partition);
    List<TopicPartition> tps = List.of(tp);
    return new Extent(restorer.beginningOffsets(tps).get(tp), restorer.endOffsets(tps).get(tp));
  }

  /**
   * Brings the store of the partition up to the end of its changelog (the last committed
   * transaction), from where the store says it stopped. Returns how many changes it applied.
   */
  long restore(int partition, OfflineStore store) {
    TopicPartition tp = new TopicPartition(topic, partition);
    long end = extent(partition).end();
    long from = store.changelogPosition();
    if (from >= end) {
      return 0;
    }
    long started = System.nanoTime();
    long applied = 0;
    restorer.assign(List.of(tp));
    try {
      restorer.seek(tp, from);
      while (restorer.position(tp) < end) {
        if (closing) {
          throw new IllegalStateException("closing while restoring partition " + partition);
        }
        List<StoreChange> changes = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> record : restorer.poll(RESTORE_POLL).records(tp)) {
          if (record.offset() < end) {
            changes.add(StoreChange.fromChangelog(record.key(), record.value()));
          }
        }
        long position = Math.min(restorer.position(tp), end);
        store.restore(changes, position, System.currentTimeMillis());
        applied += changes.size();
      }
    } finally {
      restorer.assign(List.of());
    }
    restored.increment(applied);
    log.atLevel(applied > 0 ? Level.INFO : Level.DEBUG).log(
        "restored partition {}: {} changes from offset {} to {} in {} ms", partition, applied,
        from, end, (System.nanoTime() - started) / 1_000_000);
    return applied;
  }

  /** Makes a restore in progress, or a commit waiting for the broker, give up. Any thread. */
  public void wakeup() {
    closing = true;
    restorer.wakeup();
  }

  @Override
  public void close() {
    closing = true;
    try {
      producer.close(Duration.ofSeconds(5));
    } finally {
      restorer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
    }
  }
}
