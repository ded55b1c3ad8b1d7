package io.homing.loadtest;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Counts what the application side receives: latency from due time to receipt (HdrHistogram, in
 * microseconds), and per user what was sent, received, duplicated or out of order. Also, from
 * every push as it arrived (redeliveries included), seq conflicts: one seq of a user seen carrying
 * two different messages. Thread-safe: receipts come from many event loops, sends from the
 * publisher.
 */
final class DeliveryRecorder {
  private static final long MAX_LATENCY_MICROS = TimeUnit.MINUTES.toMicros(10);

  private final UserTrack[] users;
  private final Recorder interval = new Recorder(MAX_LATENCY_MICROS, 3);
  private final Histogram total = new Histogram(MAX_LATENCY_MICROS, 3);
  private final LongAdder sent = new LongAdder();
  private final LongAdder received = new LongAdder();
  private final List<Sample> samples = new ArrayList<>();
  private final long startNanos = System.nanoTime();
  private long lastSampleSent;
  private long lastSampleReceived;
  private long lastSampleNanos = startNanos;

  DeliveryRecorder(int userCount) {
    users = new UserTrack[userCount];
    for (int i = 0; i < userCount; i++) {
      users[i] = new UserTrack();
    }
  }

  /** Counts a publish for the user; returns the user's counter for the payload. */
  long nextCounter(int user) {
    sent.increment();
    return users[user].nextCounter();
  }

  /** A message reached the application. */
  void received(ByteBuffer payload) {
    long now = System.nanoTime();
    int user = Payloads.user(payload);
    if (user < 0 || user >= users.length) {
      return; // not ours
    }
    received.increment();
    users[user].received(Payloads.counter(payload));
    long micros = Math.max(0, (now - Payloads.dueNanos(payload)) / 1000);
    interval.recordValue(Math.min(micros, MAX_LATENCY_MICROS));
  }

  /**
   * A push for {@code user} arrived with {@code seq}, before the client dropped redeliveries; a
   * seq seen before with another payload counter is a seq conflict.
   */
  void pushed(int user, long seq, ByteBuffer payload) {
    users[user].pushed(seq, Payloads.counter(payload));
  }

  long sent() {
    return sent.sum();
  }

  long received() {
    return received.sum();
  }

  /** Closes the current interval: its rates and latency percentiles. Call from one thread. */
  synchronized Sample sample() {
    long now = System.nanoTime();
    Histogram h = interval.getIntervalHistogram();
    total.add(h);
    long s = sent();
    long r = received();
    double seconds = Math.max(1e-9, (now - lastSampleNanos) / 1e9);
    Sample sample =
        new Sample(
            (now - startNanos) / 1e9,
            (s - lastSampleSent) / seconds,
            (r - lastSampleReceived) / seconds,
            h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(50) / 1000.0,
            h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(99) / 1000.0);
    samples.add(sample);
    lastSampleSent = s;
    lastSampleReceived = r;
    lastSampleNanos = now;
    return sample;
  }

  synchronized List<Sample> samples() {
    return List.copyOf(samples);
  }

  /** Latency over everything sampled so far. */
  synchronized Histogram latency() {
    return total.copy();
  }

  /** Forgets latencies sampled so far (for a new step), keeping the counts. */
  synchronized void resetLatency() {
    interval.getIntervalHistogram();
    total.reset();
  }

  /** Correctness over all users: every message sent and not received is lost. */
  Correctness correctness() {
    long lost = 0;
    long duplicated = 0;
    long outOfOrder = 0;
    long seqConflicts = 0;
    for (UserTrack u : users) {
      synchronized (u) {
        lost += u.sent - u.seen.cardinality();
        duplicated += u.duplicated;
        outOfOrder += u.outOfOrder;
        seqConflicts += u.seqConflicts;
      }
    }
    return new Correctness(sent(), received(), lost, duplicated, outOfOrder, seqConflicts);
  }

  /** One interval of a run: when, how fast, how slow. */
  record Sample(
      double atSeconds, double sentPerSecond, double deliveredPerSecond, double p50Millis,
      double p99Millis) {}

  /** What the application saw; seq conflicts are what the wire carried (raw Kafka: always 0). */
  record Correctness(
      long sent, long received, long lost, long duplicated, long outOfOrder, long seqConflicts) {}

  private static final class UserTrack {
    private long sent;
    private final BitSet seen = new BitSet();
    private long highest;
    private long duplicated;
    private long outOfOrder;
    /** The payload counter that arrived under seq i + 1; 0 = none yet. Grows with the seqs. */
    private long[] counterAtSeq = new long[0];
    private long seqConflicts;

    synchronized long nextCounter() {
      return ++sent;
    }

    synchronized void received(long counter) {
      if (counter <= 0 || counter > Integer.MAX_VALUE) {
        return;
      }
      if (seen.get((int) counter)) {
        duplicated++;
        return;
      }
      seen.set((int) counter);
      if (counter < highest) {
        outOfOrder++;
      }
      highest = Math.max(highest, counter);
    }

    synchronized void pushed(long seq, long counter) {
      if (seq <= 0 || seq > Integer.MAX_VALUE) {
        return;
      }
      int i = (int) seq - 1;
      if (i >= counterAtSeq.length) {
        int grown = Math.max(i + 1, Math.max(16, counterAtSeq.length * 2));
        counterAtSeq = Arrays.copyOf(counterAtSeq, grown);
      }
      if (counterAtSeq[i] == 0) {
        counterAtSeq[i] = counter;
      } else if (counterAtSeq[i] != counter) {
        seqConflicts++;
      }
    }
  }
}
