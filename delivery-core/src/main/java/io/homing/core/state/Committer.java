package io.homing.core.state;

import io.homing.store.PartitionState;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;

/**
 * Makes a pipeline's decisions durable off its hot path, as Kafka Streams does on its commit
 * interval: every {@code interval} — sooner when the pending changes pass {@code maxChanges} —
 * it cuts the open transaction of every partition state, and a thread of its own writes the round
 * to the {@link Changelog} in one Kafka transaction with the consumer offsets, then to the local
 * stores, while the pipeline goes on applying and delivering. One round is in flight at a time,
 * so the broker sees a few large transactions instead of one per poll; while one is in flight the
 * next collects what follows, and a pipeline whose pending changes reach {@code maxChanges} waits
 * for the round in flight before it applies more (memory stays bounded when the broker is slow).
 *
 * <p>A round that fails stops the pipeline ({@link KafkaException} from {@link #poll}): its
 * changes and offsets never became durable, and whoever owns the partitions next decides them
 * again, identically, from the input logs.
 *
 * <p>Pipeline thread only, but for the thread it starts.
 */
public final class Committer implements AutoCloseable {
  private final Changelog changelog;
  private final long intervalNanos;
  private final int maxChanges;
  private final ExecutorService thread;
  private Round inFlight;
  private long nextDueNanos;
  /** Changes applied and not durable yet, pending or in flight, as of the last poll. */
  private volatile long uncommitted;

  /** A round of transactions, one per partition, with the offsets it commits. */
  private record Round(Map<Integer, PartitionState> states,
      Map<Integer, PartitionState.Transaction> transactions, int size,
      CompletableFuture<Void> done) {}

  public Committer(Changelog changelog, Duration interval, int maxChanges, String threadName) {
    if (interval.isNegative()) {
      throw new IllegalArgumentException("interval: " + interval + " (expected: >= 0)");
    }
    if (maxChanges < 1) {
      throw new IllegalArgumentException("maxChanges: " + maxChanges + " (expected: >= 1)");
    }
    this.changelog = changelog;
    this.intervalNanos = interval.toNanos();
    this.maxChanges = maxChanges;
    this.thread = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, threadName);
      t.setDaemon(true);
      return t;
    });
    this.nextDueNanos = System.nanoTime() + intervalNanos;
  }

  /**
   * Call every loop turn: finishes the round in flight if it is done, and starts the next one
   * when it is due, or waits for the round in flight first when too much is pending.
   *
   * @param offsets the consumer offsets applied since the last round; asked only when cutting
   * @throws KafkaException when a round failed
   */
  public void poll(Map<Integer, PartitionState> states,
      Supplier<Map<TopicPartition, OffsetAndMetadata>> offsets, ConsumerGroupMetadata group) {
    if (inFlight != null && inFlight.done().isDone()) {
      finish();
    }
    int pending = pendingChanges(states);
    boolean full = pending >= maxChanges;
    if (full && inFlight != null) {
      finish();
    }
    if (inFlight == null && (full || System.nanoTime() >= nextDueNanos)) {
      start(states, offsets.get(), group);
      pending = 0; // every state with changes was cut
    }
    uncommitted = pending + (inFlight == null ? 0 : inFlight.size());
  }

  /**
   * How many changes were applied — and delivered from — and are not durable yet, as of the last
   * {@link #poll}: what a crash now would leave for the partitions' next owners to apply again.
   * Any thread.
   */
  public long uncommitted() {
    return uncommitted;
  }

  /** How long until {@link #poll} would start a round, in ms; 0 when it is due. */
  public long millisUntilDue() {
    return Math.max(0, TimeUnit.NANOSECONDS.toMillis(nextDueNanos - System.nanoTime()));
  }

  /**
   * Makes everything pending durable now and waits for it: before partitions are given up, and
   * when the pipeline stops.
   *
   * @throws KafkaException when a round failed
   */
  public void commitAll(Map<Integer, PartitionState> states,
      Map<TopicPartition, OffsetAndMetadata> offsets, ConsumerGroupMetadata group) {
    awaitInFlight();
    start(states, offsets, group);
    awaitInFlight();
  }

  /** Waits for the round in flight, if any, and finishes it. */
  public void awaitInFlight() {
    if (inFlight != null) {
      finish();
    }
  }

  private static int pendingChanges(Map<Integer, PartitionState> states) {
    int pending = 0;
    for (PartitionState state : states.values()) {
      pending += state.pendingChanges();
    }
    return pending;
  }

  private void start(Map<Integer, PartitionState> states,
      Map<TopicPartition, OffsetAndMetadata> offsets, ConsumerGroupMetadata group) {
    nextDueNanos = System.nanoTime() + intervalNanos;
    Map<Integer, PartitionState> cutStates = new HashMap<>();
    Map<Integer, PartitionState.Transaction> transactions = new HashMap<>();
    int size = 0;
    for (Map.Entry<Integer, PartitionState> entry : states.entrySet()) {
      if (entry.getValue().pendingChanges() > 0) {
        PartitionState.Transaction transaction = entry.getValue().cut();
        cutStates.put(entry.getKey(), entry.getValue());
        transactions.put(entry.getKey(), transaction);
        size += transaction.size();
      }
    }
    if (transactions.isEmpty() && offsets.isEmpty()) {
      return;
    }
    CompletableFuture<Void> done = CompletableFuture.runAsync(
        () -> changelog.write(transactions, offsets, group), thread);
    inFlight = new Round(cutStates, transactions, size, done);
  }

  /** Waits for the round in flight; once it is durable, stops laying it over the stores. */
  private void finish() {
    Round round = inFlight;
    inFlight = null;
    try {
      round.done().get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaException("interrupted while waiting for a changelog transaction", e);
    } catch (ExecutionException | CompletionException e) {
      throw e.getCause() instanceof KafkaException k ? k
          : new KafkaException("changelog transaction failed", e.getCause());
    }
    round.transactions().forEach((partition, transaction) ->
        round.states().get(partition).written(transaction));
  }

  /** Stops the thread; a round still in flight is abandoned (it commits or not, atomically). */
  @Override
  public void close() {
    thread.shutdownNow();
  }
}
