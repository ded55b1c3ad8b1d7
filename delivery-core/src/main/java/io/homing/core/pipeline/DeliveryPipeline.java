package io.homing.core.pipeline;

import io.homing.api.Topics;
import io.homing.core.DeliveryPolicy;
import io.homing.core.DeviceLimits;
import io.homing.core.QueueLimits;
import io.homing.core.routing.EdgeClients;
import io.homing.core.routing.PresenceResolver;
import io.homing.core.send.FullQueues;
import io.homing.store.OfflineStore;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.RangeAssignor;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The consumer loop of a core instance: one consumer over {@code outbound} and
 * {@code delivery-events}, co-partitioned by the range assignor, so partition p of both topics
 * — every message and event of the users hashed to p — is applied by the same instance, on this
 * one thread, in log order.
 *
 * <p>Per poll: apply to the store (one atomic write with the applied offsets), dispatch, then
 * resend what devices left unacked too long (the poll returns at least every 100 ms); about once a
 * second, delete messages whose TTL ended.
 * Kafka offsets are committed after the store holds the records, at most every 200 ms; on a
 * restart, the consumer resumes after the store's applied offsets, so records are never applied
 * twice.
 */
public final class DeliveryPipeline implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DeliveryPipeline.class);
  private static final Duration POLL_TIMEOUT = Duration.ofMillis(100);
  private static final Duration COMMIT_INTERVAL = Duration.ofMillis(200);
  private static final Duration EXPIRY_INTERVAL = Duration.ofSeconds(1);
  /** How long the group waits for a silent instance before giving its partitions to others. */
  private static final Duration SESSION_TIMEOUT = Duration.ofSeconds(15);

  private final KafkaConsumer<String, byte[]> consumer;
  private final RecordApplier applier;
  private final Dispatcher dispatcher;
  private final FullQueues fullQueues;
  private long nextExpiryNanos;
  private final Topics topics;
  private final Thread thread;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private final CompletableFuture<Throwable> failed = new CompletableFuture<>();
  private final Map<TopicPartition, OffsetAndMetadata> pendingCommit = new HashMap<>();
  private long lastCommitNanos;
  private volatile boolean running = true;

  public DeliveryPipeline(
      String bootstrapServers,
      Topics topics,
      String groupId,
      String clientId,
      OfflineStore store,
      Duration defaultTtl,
      DeliveryPolicy policy,
      QueueLimits limits,
      DeviceLimits devices,
      PresenceResolver presence,
      EdgeClients edges,
      FullQueues fullQueues,
      MeterRegistry meters) {
    Map<String, Object> config = new HashMap<>();
    config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    config.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    config.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
    // Static membership: a restarted instance takes its partitions back at once instead of
    // waiting out the session of its previous life.
    config.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, clientId);
    config.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, (int) SESSION_TIMEOUT.toMillis());
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    config.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, RangeAssignor.class.getName());
    config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 1000);
    this.consumer =
        new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer());
    this.topics = topics;
    this.applier =
        new RecordApplier(store, topics, defaultTtl, policy.dedupWindow(), limits, devices,
            meters);
    this.fullQueues = fullQueues;
    this.dispatcher = new Dispatcher(store, presence, edges, policy, System::nanoTime, meters);
    this.thread = new Thread(this::run, "delivery-pipeline");
  }

  public void start() {
    thread.start();
  }

  /**
   * Completes with the error that stopped the loop (a store that cannot write, say). Nothing is
   * delivered from then on: the process should exit so that it is restarted, and resumes after
   * the store's applied offsets.
   */
  public CompletableFuture<Throwable> failed() {
    return failed;
  }

  private void run() {
    try {
      consumer.subscribe(List.of(topics.outbound(), topics.deliveryEvents()), new Rebalance());
      while (running) {
        ConsumerRecords<String, byte[]> records = consumer.poll(POLL_TIMEOUT);
        if (!records.isEmpty()) {
          AppliedBatch applied = applier.apply(records);
          pendingCommit.putAll(nextOffsets(records));
          if (!applied.full.isEmpty()) {
            fullQueues.mark(applied.full);
          }
          dispatcher.dispatch(applied);
        }
        dispatcher.resendOverdue();
        expireIfDue();
        commitIfDue();
      }
    } catch (WakeupException e) {
      // close() asked us to stop
    } catch (RuntimeException e) {
      log.error("delivery pipeline stopped", e);
      failed.complete(e);
    } finally {
      try {
        commitPending();
        consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
      } finally {
        stopped.countDown();
      }
    }
  }

  /**
   * Commits applied offsets at most every {@link #COMMIT_INTERVAL}: the store's applied offsets
   * are what a restart resumes from, so Kafka's committed offsets only need to follow, and a
   * commit per poll would cost the broker a write per poll.
   */
  private void commitIfDue() {
    if (!pendingCommit.isEmpty()
        && System.nanoTime() - lastCommitNanos >= COMMIT_INTERVAL.toNanos()) {
      consumer.commitAsync(new HashMap<>(pendingCommit), null);
      pendingCommit.clear();
      lastCommitNanos = System.nanoTime();
    }
  }

  /** Deletes messages whose TTL ended, about once a second. */
  private void expireIfDue() {
    long now = System.nanoTime();
    if (now >= nextExpiryNanos) {
      nextExpiryNanos = now + EXPIRY_INTERVAL.toNanos();
      int expired = applier.expire(System.currentTimeMillis());
      if (expired > 0) {
        log.debug("expired {} messages", expired);
      }
    }
  }

  private void commitPending() {
    if (!pendingCommit.isEmpty()) {
      try {
        consumer.commitSync(new HashMap<>(pendingCommit), Duration.ofSeconds(5));
      } catch (RuntimeException e) {
        log.warn("cannot commit offsets on the way out: {}", e.toString());
      }
      pendingCommit.clear();
    }
  }

  private static Map<TopicPartition, OffsetAndMetadata> nextOffsets(
      ConsumerRecords<String, byte[]> records) {
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    for (TopicPartition tp : records.partitions()) {
      var list = records.records(tp);
      long last = list.get(list.size() - 1).offset();
      offsets.put(tp, new OffsetAndMetadata(last + 1));
    }
    return offsets;
  }

  /** Resumes each newly owned partition after the store's applied offset. */
  private final class Rebalance implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      Map<TopicPartition, OffsetAndMetadata> committed =
          partitions.isEmpty() ? Map.of() : consumer.committed(new HashSet<>(partitions));
      for (TopicPartition tp : partitions) {
        long applied = applier.appliedOffset(tp);
        OffsetAndMetadata groupOffset = committed.get(tp);
        if (groupOffset != null && groupOffset.offset() > applied + 1) {
          // Another store applied this partition further (another instance, or this one before
          // its disk was lost): applying from here would assign its users' seqs a second time.
          throw new IllegalStateException("partition " + tp + " was applied up to offset "
              + (groupOffset.offset() - 1) + " but this store holds it only up to " + applied
              + ": its queues live in another store, and moving them (changelog failover) is "
              + "not built. Refusing to assign seqs twice; run one core per deployment, or "
              + "restore this core's data folder");
        }
        if (applied >= 0) {
          consumer.seek(tp, applied + 1);
        }
      }
      log.info("assigned {}", partitions);
    }

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      commitPending();
      partitions.forEach(applier::forget);
      dispatcher.reset();
    }
  }

  /** Stops polling, waits for the loop to finish its batch and closes the consumer. Idempotent. */
  @Override
  public void close() {
    running = false;
    if (!thread.isAlive() && stopped.getCount() > 0) {
      consumer.close(CloseOptions.timeout(Duration.ofSeconds(5))); // never started
      stopped.countDown();
      return;
    }
    consumer.wakeup();
    try {
      if (!stopped.await(10, TimeUnit.SECONDS)) {
        log.warn("delivery pipeline did not stop within 10 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
