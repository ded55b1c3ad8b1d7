package io.homing.edge.session;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * {@code homing.delivery.latency}: from a message's {@code created_at_ms} (set by the Send API
 * when it accepted the message, by a Kafka producer, or else the record's Kafka timestamp) to the
 * moment this edge wrote its Push to the client's socket, as a Prometheus histogram.
 *
 * <p>Tagged {@code kind}: {@code live} for the first write of a message queued after core opened
 * the connection's stream — the delivery path's latency, what an SLO is about — and {@code
 * backlog} for the rest: a backlog replayed to a device that was away (minutes to days old), and
 * pushes written again after an ack timeout or a rebalance. Mixing them would let one device
 * coming back after a week drown the live percentiles.
 *
 * <p>The two clocks are different hosts': skew between the publisher's (or the Kafka broker's) and
 * this edge's adds to or takes from every value; a message stamped in this edge's future is
 * recorded as 0. Thread-safe; nothing is allocated per record beyond what the timer needs.
 */
final class DeliveryLatency {
  static final String NAME = "homing.delivery.latency";

  private final Timer live;
  private final Timer backlog;

  DeliveryLatency(MeterRegistry meters) {
    this.live = timer(meters, "live");
    this.backlog = timer(meters, "backlog");
  }

  private static Timer timer(MeterRegistry meters, String kind) {
    return Timer.builder(NAME)
        .description("From a message's created_at_ms to its Push written to the client's socket")
        .tag("kind", kind)
        .publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofMillis(1))
        .maximumExpectedValue(Duration.ofSeconds(60))
        // Backlog ages, which the histogram's 1 ms..60 s range would all put in +Inf.
        .serviceLevelObjectives(Duration.ofMinutes(5), Duration.ofHours(1), Duration.ofDays(1))
        .register(meters);
  }

  /**
   * Records a push written now of a message created at {@code createdAtMs}; nothing when that is
   * unknown (not above 0).
   */
  void record(boolean isLive, long createdAtMs) {
    if (createdAtMs <= 0) {
      return;
    }
    long millis = Math.max(0, System.currentTimeMillis() - createdAtMs);
    (isLive ? live : backlog).record(millis, TimeUnit.MILLISECONDS);
  }
}
