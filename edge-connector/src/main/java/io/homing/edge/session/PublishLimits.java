package io.homing.edge.session;

import io.github.bucket4j.Bucket;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * How fast each user may publish through this node, summed over her connections: a token bucket
 * per user ({@link EdgeLimits#publishesPerSecond()}, {@link EdgeLimits#publishBurst()}), made at
 * her first publish and dropped by {@link #sweep} once it is full again, so that only users who
 * published within the last seconds hold one. Thread-safe.
 */
final class PublishLimits {
  private final long perSecond;
  private final long burst;
  private final ConcurrentMap<String, Bucket> buckets = new ConcurrentHashMap<>();

  PublishLimits(EdgeLimits limits) {
    this.perSecond = limits.publishesPerSecond();
    this.burst = limits.publishBurst();
  }

  /** Takes one publish from the user's bucket; false when it is empty. */
  boolean tryPublish(String userId) {
    return buckets.computeIfAbsent(userId, user -> newBucket()).tryConsume(1);
  }

  /**
   * Drops the buckets that refilled: a user who publishes again gets a new, full one, the same.
   * A publish that takes from a bucket while it is dropped goes uncounted, in the user's favour.
   */
  void sweep() {
    buckets.values().removeIf(bucket -> bucket.getAvailableTokens() >= burst);
  }

  /** How many users hold a bucket now. */
  int size() {
    return buckets.size();
  }

  String describe() {
    return "at most " + perSecond + " publishes per second (a burst of " + burst
        + ") per user on this edge";
  }

  private Bucket newBucket() {
    return Bucket.builder()
        .addLimit(limit -> limit.capacity(burst).refillGreedy(perSecond, Duration.ofSeconds(1)))
        .build();
  }
}
