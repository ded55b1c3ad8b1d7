package io.homing.core.topics;

import io.homing.api.Topics;
import io.homing.core.state.PartitionStores;
import io.homing.runtime.kafka.KafkaConnection;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates {@code outbound}, {@code delivery-events}, core's {@code store-changelog} (compacted),
 * {@code inbound} (the edges' uplink, for the application), {@code delivery-receipts} (for
 * producers) and {@code notifications} (for the notifier) when missing, and refuses to
 * start when the first three are not co-partitioned: with different partition counts a user's
 * events would be applied by another thread than the user's messages, and partition p's store
 * would not be logged in changelog partition p. Returns once every
 * partition's leader answers, so nothing is produced to a partition its broker has not opened yet
 * (see {@link #awaitLeaders}).
 */
public final class TopicInitializer {
  private static final Logger log = LoggerFactory.getLogger(TopicInitializer.class);
  private static final long TIMEOUT_SECONDS = 30;

  private TopicInitializer() {}

  /** Describes the topics, waiting out the moment after creation when the broker lacks them. */
  private static Map<String, TopicDescription> describe(Admin admin, List<String> names)
      throws InterruptedException, ExecutionException, TimeoutException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
    while (true) {
      try {
        return admin.describeTopics(names).allTopicNames().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof UnknownTopicOrPartitionException)
            || System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(50);
      }
    }
  }

  /**
   * Waits until the leader of every partition answers a ListOffsets request. Until a new topic's
   * partitions are open on their broker, an idempotent producer's first request may fail while a
   * later one succeeds; the first then retries forever with OUT_OF_ORDER_SEQUENCE_NUMBER and its
   * records are lost (KAFKA-15591), so a topic is used only once its leaders answer.
   */
  private static void awaitLeaders(Admin admin, Map<String, TopicDescription> topics)
      throws InterruptedException, ExecutionException, TimeoutException {
    Map<TopicPartition, OffsetSpec> partitions = new HashMap<>();
    topics.forEach((name, description) -> description.partitions().forEach(
        p -> partitions.put(new TopicPartition(name, p.partition()), OffsetSpec.latest())));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
    while (true) {
      try {
        admin.listOffsets(partitions).all().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        return;
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof RetriableException) || System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(50);
      }
    }
  }

  /** How long an overwritten or deleted changelog record may wait for compaction. */
  public static final Duration CHANGELOG_MAX_COMPACTION_LAG = Duration.ofDays(7);

  /**
   * The changelog's topic configuration: compacted; tombstones kept as long as stores rely on;
   * and a record overwritten or deleted is compacted away within a week, so that what an erase
   * deletes leaves Kafka in a bounded time.
   */
  private static final Map<String, String> CHANGELOG_CONFIG = Map.of(
      TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
      TopicConfig.DELETE_RETENTION_MS_CONFIG,
      Long.toString(PartitionStores.TOMBSTONE_RETENTION.toMillis()),
      TopicConfig.MAX_COMPACTION_LAG_MS_CONFIG,
      Long.toString(CHANGELOG_MAX_COMPACTION_LAG.toMillis()));


  /**
   * Ensures the topics exist and {@code outbound}, {@code delivery-events} and
   * {@code store-changelog} are co-partitioned; returns their partition count. {@code inbound},
   * {@code delivery-receipts} and {@code notifications}, when missing, are created with that count too: nothing
   * requires them to be co-partitioned (core never reads them), so one that exists with another
   * count is left as it is.
   *
   * @param partitions partition count of co-partitioned topics created here
   */
  public static int ensureTopics(
      KafkaConnection kafka, Topics topics, int partitions, short replication) {
    List<String> coPartitioned =
        List.of(topics.outbound(), topics.deliveryEvents(), topics.storeChangelog());
    try (Admin admin = Admin.create(kafka.clientConfig())) {
      Set<String> existing = admin.listTopics().names().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      List<NewTopic> missing = new ArrayList<>();
      for (String name : coPartitioned) {
        if (!existing.contains(name)) {
          NewTopic topic = new NewTopic(name, partitions, replication);
          missing.add(name.equals(topics.storeChangelog()) ? topic.configs(CHANGELOG_CONFIG) : topic);
        }
      }
      create(admin, missing);
      Map<String, TopicDescription> described = new HashMap<>(describe(admin, coPartitioned));
      Map<String, Integer> counts = new LinkedHashMap<>();
      coPartitioned.forEach(name -> counts.put(name, described.get(name).partitions().size()));
      if (counts.values().stream().distinct().count() > 1) {
        throw new IllegalStateException("topics are not co-partitioned: partition counts "
            + counts + " (expected: equal)");
      }
      int count = counts.get(topics.outbound());
      List<String> others = List.of(topics.inbound(), topics.deliveryReceipts(),
          topics.notifications());
      create(admin, others.stream().filter(name -> !existing.contains(name))
          .map(name -> new NewTopic(name, count, replication)).toList());
      described.putAll(describe(admin, others));
      awaitLeaders(admin, described);
      return count;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating topics", e);
    } catch (ExecutionException | TimeoutException e) {
      // A refused login or TLS handshake is the cause: say it, not just that it failed.
      Throwable cause = e.getCause() == null ? e : e.getCause();
      throw new IllegalStateException("cannot create topics on " + kafka + ": " + cause, e);
    }
  }

  /** Creates the topics; another core instance creating them at the same time is fine. */
  private static void create(Admin admin, List<NewTopic> topics)
      throws InterruptedException, ExecutionException, TimeoutException {
    if (topics.isEmpty()) {
      return;
    }
    try {
      admin.createTopics(topics).all().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      log.info("created topics {} with {} partitions",
          topics.stream().map(NewTopic::name).toList(), topics.get(0).numPartitions());
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof TopicExistsException)) {
        throw e;
      }
    }
  }
}
