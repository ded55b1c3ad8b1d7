package io.homing.core.pipeline;

import io.homing.api.Topics;
import io.homing.api.v1.GetStatusResponse;
import io.homing.api.v1.UserInfo;
import io.homing.core.CommitPolicy;
import io.homing.core.DeliveryPolicy;
import io.homing.core.DeviceLimits;
import io.homing.core.NotifyPolicy;
import io.homing.core.QueueLimits;
import io.homing.core.ReceiptPolicy;
import io.homing.core.routing.EdgeClients;
import io.homing.core.routing.PresenceResolver;
import io.homing.core.send.FullQueues;
import io.homing.core.state.Changelog;
import io.homing.core.state.Committer;
import io.homing.core.state.PartitionStores;
import io.homing.runtime.kafka.KafkaConnection;
import io.homing.store.PartitionState;
import io.homing.store.StoredMessage;
import io.homing.store.v1.UserState;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import java.time.Duration;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
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
 * One consumer loop of a core instance: one consumer over {@code outbound} and
 * {@code delivery-events}, co-partitioned by the range assignor, so partition p of both topics
 * — every message and event of the users hashed to p — is applied by the same pipeline, on its
 * one thread, in log order, to partition p's state. An instance runs one or more pipelines, each
 * a member of the group with its partitions, its changelog producer and its {@link Committer}.
 *
 * <p>When partitions are assigned, their stores are restored from the changelog first; the
 * consumer then resumes after each store's applied offset. Per poll: publish the DELIVERED
 * receipts of what edges wrote since the last one, apply, dispatch what that
 * made deliverable — at once, before any of it is durable — then resend what devices left
 * unacked too long and ask for the notifications that are due (the poll returns at least every
 * 100 ms); about once a second, delete messages
 * whose TTL ended. The {@link Committer} makes the state and the consumer offsets durable
 * behind, in one changelog transaction per commit interval. Records are never applied twice,
 * by this pipeline or the next owner of their partition; a record applied but not yet committed
 * when the pipeline dies is applied again by the next owner, and decided the same way
 * ({@link PartitionMachine}).
 */
public final class DeliveryPipeline implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DeliveryPipeline.class);
  private static final long POLL_TIMEOUT_MS = 100;
  /** How often a pipeline looks whether a round it waits for finished. */
  private static final long ROUND_CHECK_MS = 2;
  private static final Duration EXPIRY_INTERVAL = Duration.ofSeconds(1);
  /** How long the group waits for a silent instance before giving its partitions to others. */
  private static final Duration SESSION_TIMEOUT = Duration.ofSeconds(15);

  private final KafkaConsumer<String, byte[]> consumer;
  /** The consumer's own metrics (lag, fetch rates, rebalances) as {@code kafka_consumer_*}. */
  private final KafkaClientMetrics consumerMetrics;
  private final PartitionStores stores;
  private final Changelog changelog;
  private final Committer committer;
  private final RecordApplier applier;
  private final Dispatcher dispatcher;
  private final FullQueues fullQueues;
  private long nextExpiryNanos;
  private final Topics topics;
  private final Thread thread;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private final CompletableFuture<Throwable> failed = new CompletableFuture<>();
  /** The partition numbers this pipeline owns, for other threads. */
  private volatile Set<Integer> owned = Set.of();
  private volatile long queuedEstimate;
  private final ConcurrentLinkedQueue<Query<?>> queries = new ConcurrentLinkedQueue<>();
  private volatile boolean running = true;
  /** Whether revoked partitions are committed first: not once the loop ended. */
  private boolean committing = true;

  /**
   * @param clientId this pipeline's id: its consumer's client id and static group member id,
   *     unique in the group and stable across restarts
   */
  public DeliveryPipeline(
      KafkaConnection kafka,
      Topics topics,
      String groupId,
      String clientId,
      PartitionStores stores,
      Changelog changelog,
      CommitPolicy commits,
      Duration defaultTtl,
      DeliveryPolicy policy,
      NotifyPolicy notify,
      ReceiptPolicy receipts,
      QueueLimits limits,
      DeviceLimits devices,
      PresenceResolver presence,
      EdgeClients edges,
      FullQueues fullQueues,
      MeterRegistry meters) {
    Map<String, Object> config = kafka.clientConfig();
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
    this.consumerMetrics = new KafkaClientMetrics(consumer);
    consumerMetrics.bindTo(meters);
    this.topics = topics;
    this.stores = stores;
    this.changelog = changelog;
    this.committer = new Committer(changelog, commits.interval(), commits.maxChanges(),
        clientId + "-committer");
    this.applier = new RecordApplier(stores, topics, defaultTtl, policy.dedupWindow(), limits,
        devices, meters);
    this.fullQueues = fullQueues;
    this.dispatcher =
        new Dispatcher(stores::forUser, presence, edges, policy, notify, receipts,
            System::nanoTime, meters);
    this.thread = new Thread(this::run, clientId);
  }

  public void start() {
    thread.start();
  }

  /**
   * Completes with the error that stopped the loop (a store that cannot write, a changelog
   * transaction that failed, say). Nothing is delivered from then on: the process should exit so
   * that it is restarted, and resumes after what its stores and the changelog hold.
   */
  public CompletableFuture<Throwable> failed() {
    return failed;
  }

  /** How many partitions this pipeline holds and delivers. Any thread. */
  public int ownedPartitions() {
    return owned.size();
  }

  /**
   * About how many messages the queues of its partitions hold, as of the last second (RocksDB's
   * estimate of what is written). Any thread.
   */
  public long queuedEstimate() {
    return queuedEstimate;
  }

  /** How many changes it applied and delivered from that are not durable yet. Any thread. */
  public long uncommittedChanges() {
    return committer.uncommitted();
  }

  /** The partitions this pipeline holds and delivers. Any thread. */
  public Set<Integer> ownedPartitionNumbers() {
    return owned;
  }

  /**
   * What a pipeline says of a question about a user: whether it owns her partition, and if so
   * its answer (which may be null: GetStatus of an id not remembered, say).
   */
  public record Answer<T>(boolean owned, T value) {}

  private record Query<T>(String userId, Function<String, T> ask,
      CompletableFuture<Answer<T>> answer) {
    void answer(boolean running, PartitionStores stores) {
      try {
        answer.complete(!running || stores.forUser(userId) == null
            ? new Answer<>(false, null) : new Answer<>(true, ask.apply(userId)));
      } catch (RuntimeException e) {
        answer.completeExceptionally(e);
      }
    }
  }

  /**
   * Where the user's message stands, answered on the loop after its current poll (within about
   * 100 ms). Not owned once the loop stopped. Any thread.
   */
  public CompletableFuture<Answer<GetStatusResponse>> status(String userId, String messageId) {
    return ask(userId, user -> dispatcher.status(user, messageId));
  }

  /** The user as the admin API shows her (GetUser), answered on the loop. Any thread. */
  public CompletableFuture<Answer<UserInfo>> userInfo(String userId) {
    return ask(userId, this::describe);
  }

  /**
   * Closes the connections of the user's device (all of hers when {@code deviceId} is empty)
   * with Error{KICKED}, on the loop; answers the devices asked. Any thread.
   */
  public CompletableFuture<Answer<List<String>>> kick(String userId, String deviceId,
      String reason) {
    return ask(userId, user -> dispatcher.kick(user, deviceId, reason));
  }

  private <T> CompletableFuture<Answer<T>> ask(String userId, Function<String, T> question) {
    CompletableFuture<Answer<T>> answer = new CompletableFuture<>();
    queries.add(new Query<>(userId, question, answer));
    if (stopped.getCount() == 0) {
      answerQueries(); // nobody else will
    }
    return answer;
  }

  /** Answers the queries waiting: on the loop, or by anyone once it stopped. */
  private void answerQueries() {
    boolean running = stopped.getCount() > 0 && Thread.currentThread() == thread;
    for (Query<?> q; (q = queries.poll()) != null; ) {
      q.answer(running, stores);
    }
  }

  /** The user's state, queue and devices (all 0 and none for a user never heard of). */
  private UserInfo describe(String userId) {
    PartitionState state = stores.forUser(userId);
    UserState user = state.user(userId);
    int partition = stores.partitionOf(userId);
    UserInfo.Builder info = UserInfo.newBuilder()
        .setUserId(userId)
        .setPartition(partition)
        .setLastSeq(user.getLastSeq())
        .setStreamEpoch(user.getStreamEpoch())
        .setQueuedMessages(user.getQueuedCount())
        .setQueuedBytes(user.getQueuedBytes())
        .setPaused(user.getPaused())
        .addAllDevices(dispatcher.devices(userId))
        .setEventsAppliedThrough(state.appliedOffset(topics.deliveryEvents(), partition));
    if (user.getQueuedCount() > 0) {
      List<StoredMessage> oldest = state.readAfter(userId, user.getPurgedThrough(), 1);
      if (!oldest.isEmpty()) {
        info.setOldestSeq(oldest.get(0).seq())
            .setOldestCreatedAtMs(oldest.get(0).message().getCreatedAtMs());
      }
    }
    return info.build();
  }

  /** How many device connections this pipeline streams to. Any thread. */
  public int deviceStreams() {
    return dispatcher.streams();
  }

  private void run() {
    boolean clean = false;
    try {
      consumer.subscribe(List.of(topics.outbound(), topics.deliveryEvents()), new Rebalance());
      while (running) {
        ConsumerRecords<String, byte[]> records = consumer.poll(Duration.ofMillis(
            Math.max(ROUND_CHECK_MS, Math.min(POLL_TIMEOUT_MS, committer.millisUntilDue()))));
        // What edges wrote so far, before the acks this poll may hold: a device acks what it got.
        dispatcher.publishWritten();
        if (!records.isEmpty()) {
          Outcome applied = applier.apply(records);
          if (!applied.full.isEmpty()) {
            fullQueues.mark(applied.full);
          }
          dispatcher.dispatch(applied);
        }
        dispatcher.resendOverdue();
        dispatcher.notifyDue();
        answerQueries();
        expireIfDue();
        committer.poll(stores.owned(), applier::takeOffsets, consumer.groupMetadata());
      }
      clean = true;
    } catch (WakeupException e) {
      clean = true; // close() asked us to stop
    } catch (RuntimeException e) {
      log.error("delivery pipeline stopped", e);
      failed.complete(e);
    } finally {
      try {
        if (clean) {
          dispatcher.publishWritten();
          committer.commitAll(stores.owned(), applier.takeOffsets(), consumer.groupMetadata());
        }
      } catch (RuntimeException e) {
        log.warn("could not commit what was pending at close; the next owner applies it again: {}",
            e.toString());
      } finally {
        committing = false;
        // Leave the group: the other instances take the partitions over now, not after the
        // session timeout. (A crash leaves no time for this; static membership then lets a
        // restarted instance take its partitions back within the session timeout.)
        consumer.close(CloseOptions.timeout(Duration.ofSeconds(5))
            .withGroupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
        consumerMetrics.close();
        committer.close();
        stopped.countDown();
        answerQueries();
      }
    }
  }

  /** Deletes messages whose TTL ended, about once a second. */
  private void expireIfDue() {
    long now = System.nanoTime();
    if (now >= nextExpiryNanos) {
      nextExpiryNanos = now + EXPIRY_INTERVAL.toNanos();
      int expired = applier.expire(System.currentTimeMillis()).expired;
      if (expired > 0) {
        log.debug("expired {} messages", expired);
      }
      queuedEstimate = stores.owned().values().stream()
          .mapToLong(PartitionState::estimatedMessages).sum();
    }
  }

  /** The partition numbers — the stores — of topic partitions, in order, each once. */
  private static TreeSet<Integer> numbers(Collection<TopicPartition> partitions) {
    return new TreeSet<>(partitions.stream().map(TopicPartition::partition).toList());
  }

  /**
   * Restores the stores of newly owned partitions from the changelog and resumes each partition
   * after its store's applied offset; closes the stores of partitions given up.
   */
  private final class Rebalance implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      // Read first: a read-committed consumer waits here until a transaction that a previous
      // owner left open on these partitions is committed or aborted, so the restore below sees
      // its outcome.
      Map<TopicPartition, OffsetAndMetadata> committed =
          partitions.isEmpty() ? Map.of() : consumer.committed(new HashSet<>(partitions));
      numbers(partitions).forEach(stores::open);
      owned = Set.copyOf(stores.owned().keySet());
      for (TopicPartition tp : partitions) {
        long applied = applier.appliedOffset(tp);
        OffsetAndMetadata groupOffset = committed.get(tp);
        if (groupOffset != null && groupOffset.offset() > applied + 1) {
          // The group's offsets and the changelog are committed in one transaction: the store
          // restored from the changelog should hold exactly what the group consumed.
          throw new IllegalStateException("partition " + tp + " was applied up to offset "
              + (groupOffset.offset() - 1) + " but its store, restored from "
              + topics.storeChangelog() + ", holds it only up to " + applied + ": the changelog "
              + "lost records (deleted or recreated?). Refusing to assign seqs twice");
        }
        if (applied >= 0) {
          consumer.seek(tp, applied + 1);
        }
      }
      log.info("assigned {}", partitions);
    }

    /**
     * Makes everything applied so far durable, then lets the partitions go. (When the loop ended,
     * what it left pending is not committed: after a failure it cannot be trusted.)
     */
    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      if (committing && !partitions.isEmpty()) {
        dispatcher.publishWritten();
        committer.commitAll(stores.owned(), applier.takeOffsets(), consumer.groupMetadata());
      }
      release(partitions);
    }

    /**
     * The group gave the partitions to others already (this pipeline was silent too long): what
     * it applied and did not commit is theirs to apply again, so it is dropped here.
     */
    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      committer.awaitInFlight();
      log.warn("lost {}: the group moved them on; dropping what was not committed", partitions);
      release(partitions);
    }

    private void release(Collection<TopicPartition> partitions) {
      partitions.forEach(applier::forget);
      numbers(partitions).forEach(stores::close);
      owned = Set.copyOf(stores.owned().keySet());
      dispatcher.reset();
    }
  }

  /**
   * Asks the loop to stop after the batch at hand, without waiting: {@link #close} waits. Lets an
   * instance stop all its pipelines at once, so none takes over what another is giving up.
   */
  public void stop() {
    running = false;
    consumer.wakeup();
    changelog.wakeup();
  }

  /**
   * Stops polling, waits for the loop to make what it applied durable and closes the consumer.
   * Idempotent.
   */
  @Override
  public void close() {
    stop();
    if (!thread.isAlive() && stopped.getCount() > 0) {
      committer.close();
      consumer.close(CloseOptions.timeout(Duration.ofSeconds(5))); // never started
      consumerMetrics.close();
      stopped.countDown();
      return;
    }
    try {
      if (!stopped.await(15, TimeUnit.SECONDS)) {
        log.warn("delivery pipeline did not stop within 15 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
