package io.homing.core.send;

import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import io.homing.core.SendLimits;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;

/**
 * The {@link SendLimits} of each sender on this core: two token buckets per sender, one of calls
 * and one of recipients, made at its first call. Senders are the key file's few names, so the
 * buckets are kept. Thread-safe.
 */
final class SendRateLimits {
  private final SendLimits limits;
  private final ConcurrentMap<String, Buckets> senders = new ConcurrentHashMap<>();
  private final Counter callsLimited;
  private final Counter recipientsLimited;

  private record Buckets(Bucket calls, Bucket recipients) {}

  SendRateLimits(SendLimits limits, MeterRegistry meters) {
    this.limits = limits;
    this.callsLimited = limited(meters, "calls");
    this.recipientsLimited = limited(meters, "recipients");
  }

  private static Counter limited(MeterRegistry meters, String limit) {
    return Counter.builder("homing.send.rate.limited")
        .description("Send API calls refused because their sender went over a SendLimits rate")
        .tag("limit", limit)
        .register(meters);
  }

  /**
   * Takes a call naming {@code recipients} users from the sender's buckets; returns null when it
   * may go, else why not, for its RESOURCE_EXHAUSTED.
   */
  String tryCall(String sender, int recipients) {
    Buckets buckets = senders.computeIfAbsent(sender, s -> new Buckets(
        bucket(limits.callBurst(), limits.callsPerSecond()),
        bucket(limits.recipientBurst(), limits.recipientsPerSecond())));
    ConsumptionProbe call = buckets.calls().tryConsumeAndReturnRemaining(1);
    if (!call.isConsumed()) {
      callsLimited.increment();
      return "sender " + sender + " made more than " + limits.callsPerSecond()
          + " calls per second (a burst of " + limits.callBurst() + ")" + retryIn(call);
    }
    ConsumptionProbe named = buckets.recipients().tryConsumeAndReturnRemaining(recipients);
    if (!named.isConsumed()) {
      recipientsLimited.increment();
      return "sender " + sender + " named more than " + limits.recipientsPerSecond()
          + " recipients per second (a burst of " + limits.recipientBurst() + ")"
          + retryIn(named);
    }
    return null;
  }

  private static String retryIn(ConsumptionProbe probe) {
    long millis = Math.max(1, TimeUnit.NANOSECONDS.toMillis(probe.getNanosToWaitForRefill()));
    return ": nothing was sent; retry in " + millis + " ms or later";
  }

  private static Bucket bucket(long capacity, long perSecond) {
    return Bucket.builder()
        .addLimit(limit -> limit.capacity(capacity).refillGreedy(perSecond, Duration.ofSeconds(1)))
        .build();
  }
}
