package io.homing.loadtest;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Raw Kafka on the same broker: the same producer settings and record size as Homing's runs, one
 * consumer reading every partition, no Homing in between. Its topic has as many partitions as
 * {@code outbound} and is deleted afterwards.
 */
final class BaselineRig implements Bench.Rig {
  private final Admin admin;
  private final String topic;
  private final KafkaSink sink;
  private final KafkaConsumer<String, byte[]> consumer;
  private final Thread poller;
  private volatile boolean running = true;

  BaselineRig(Target target, DeliveryRecorder recorder) throws Exception {
    admin = Admin.create(target.kafkaConnection().clientConfig());
    String outbound = target.topicPrefix + "outbound";
    int partitions =
        admin.describeTopics(Set.of(outbound)).allTopicNames().get(30, TimeUnit.SECONDS)
            .get(outbound).partitions().size();
    // A fresh name per rig: re-creating a topic that is still being deleted misbehaves.
    topic = target.topicPrefix + "lt-baseline-" + target.runId + "-" + System.nanoTime();
    admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all()
        .get(30, TimeUnit.SECONDS);
    List<TopicPartition> all =
        IntStream.range(0, partitions)
            .mapToObj(p -> new TopicPartition(topic, p)).toList();
    awaitLeaders(all);
    Map<String, Object> consumerConfig = target.kafkaConnection().clientConfig();
    consumerConfig.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    consumerConfig.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    consumer = new KafkaConsumer<>(consumerConfig, new StringDeserializer(),
        new ByteArrayDeserializer());
    consumer.assign(all);
    consumer.seekToBeginning(all);
    poller =
        new Thread(
            () -> {
              while (running) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(50))) {
                  recorder.received(ByteBuffer.wrap(r.value()));
                }
              }
            },
            "baseline-consumer");
    poller.start();
    sink = new KafkaSink(target.kafkaConnection(), topic, true, false);
  }

  /**
   * Waits until each partition's leader answers: producing to a partition before its broker
   * opened it can lose the first records of an idempotent producer (KAFKA-15591).
   */
  private void awaitLeaders(List<TopicPartition> partitions) throws Exception {
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    partitions.forEach(tp -> latest.put(tp, OffsetSpec.latest()));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try {
        admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS);
        return;
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof RetriableException) || System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(50);
      }
    }
  }

  @Override
  public Sink sink() {
    return sink;
  }

  /** Stops the consumer and deletes the baseline topic. */
  @Override
  public void close() {
    sink.close();
    running = false;
    try {
      poller.join(5000);
      admin.deleteTopics(List.of(topic)).all().get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      Progress.line("could not delete %s: %s", topic, e);
    } finally {
      consumer.close();
      admin.close();
    }
  }
}
