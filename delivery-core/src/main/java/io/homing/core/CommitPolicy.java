package io.homing.core;

import java.time.Duration;

/**
 * How a core instance works its partitions and how often it makes what it applied durable. The
 * state is committed — changelog and consumer offsets in one Kafka transaction — behind
 * delivery, never before it.
 *
 * @param pipelineThreads how many pipelines the instance runs, each a consumer of its own with
 *     its share of the partitions, like Kafka Streams' {@code num.stream.threads}
 * @param interval how long changes wait at most before a commit starts (Kafka Streams'
 *     {@code commit.interval.ms}); a shorter interval means less to apply again after a crash and
 *     more, smaller transactions for the broker
 * @param maxChanges how many uncommitted changes a pipeline holds at most: reaching it starts a
 *     commit early, or makes the pipeline wait for the one in progress
 */
public record CommitPolicy(int pipelineThreads, Duration interval, int maxChanges) {
  /** One pipeline, a commit every 100 ms, at most 100,000 changes pending. */
  public static CommitPolicy defaults() {
    return new CommitPolicy(1, Duration.ofMillis(100), 100_000);
  }

  public CommitPolicy {
    if (pipelineThreads < 1 || pipelineThreads > 64) {
      throw new IllegalArgumentException(
          "pipelineThreads: " + pipelineThreads + " (expected: 1..64)");
    }
    if (interval == null || interval.isNegative()) {
      throw new IllegalArgumentException("interval: " + interval + " (expected: >= 0)");
    }
    if (maxChanges < 1) {
      throw new IllegalArgumentException("maxChanges: " + maxChanges + " (expected: >= 1)");
    }
  }
}
