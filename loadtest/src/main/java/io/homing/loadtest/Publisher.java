package io.homing.loadtest;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

/**
 * An open-loop publisher: message i is due at start + i / rate, whether or not earlier ones were
 * delivered, and its latency is measured from when it was due — so a stalled system shows up as
 * latency, not as a politely slower load (no coordinated omission). Targets users round-robin.
 */
final class Publisher {
  private final Sink sink;
  private final DeliveryRecorder recorder;
  private final String[] userIds;
  private final int payloadBytes;
  private int nextUser;

  Publisher(Sink sink, DeliveryRecorder recorder, String[] userIds, int payloadBytes) {
    this.sink = sink;
    this.recorder = recorder;
    this.userIds = userIds;
    this.payloadBytes = payloadBytes;
  }

  /** Publishes at {@code ratePerSecond} for {@code duration}, calling {@code tick} every second. */
  void run(double ratePerSecond, Duration duration, Runnable tick) {
    long start = System.nanoTime();
    long end = start + duration.toNanos();
    double interval = 1e9 / ratePerSecond;
    long nextTick = start + 1_000_000_000L;
    long i = 0;
    while (true) {
      long now = System.nanoTime();
      if (now >= end) {
        break;
      }
      long due = start + (long) (i * interval);
      while (due <= now && due < end) {
        publishOne(due);
        i++;
        due = start + (long) (i * interval);
      }
      if (now >= nextTick) {
        tick.run();
        nextTick += 1_000_000_000L;
      }
      LockSupport.parkNanos(Math.max(10_000, Math.min(due, nextTick) - System.nanoTime()));
    }
  }

  /** Publishes {@code count} messages to each user, as fast as the sink takes them. */
  void burst(int count) {
    for (int c = 0; c < count; c++) {
      for (int u = 0; u < userIds.length; u++) {
        publishTo(u, System.nanoTime());
      }
    }
  }

  private void publishOne(long dueNanos) {
    int user = nextUser;
    nextUser = (nextUser + 1) % userIds.length;
    publishTo(user, dueNanos);
  }

  private void publishTo(int user, long dueNanos) {
    long counter = recorder.nextCounter(user);
    sink.publish(userIds[user], Payloads.encode(dueNanos, user, counter, payloadBytes));
  }
}
