package io.homing.loadtest;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/** The scenarios, as methods a command or a test can call. */
final class Bench {
  private final Target target;

  Bench(Target target) {
    this.target = target;
  }

  /** Something that delivers what its sink publishes to the recorder. */
  interface Rig extends AutoCloseable {
    Sink sink();

    @Override
    void close();
  }

  /** Homing: a fleet of connected users and a sink into outbound (or the Send API). */
  Rig homing(String[] users, DeliveryRecorder recorder) throws Exception {
    ClientFleet fleet = new ClientFleet();
    ClientFleet.Ramp ramp =
        fleet.connect(users, target.edges, target.sources, target.secret, target.ca, recorder,
            n -> Progress.line("connecting %d/%d", n, users.length));
    if (ramp.failed() > 0) {
      fleet.close();
      throw new IllegalStateException(
          ramp.failed() + " of " + users.length + " connections failed, the first with: "
              + ramp.firstFailure(), ramp.firstFailure());
    }
    Sink sink = target.homingSink();
    return new Rig() {
      @Override
      public Sink sink() {
        return sink;
      }

      @Override
      public void close() {
        sink.close();
        fleet.close();
      }
    };
  }

  Rig baseline(DeliveryRecorder recorder) throws Exception {
    return new BaselineRig(target, recorder);
  }

  /**
   * Fixed rate: a warm-up, then latency percentiles and CPU per message over the measured part
   * (raw Kafka: the broker's CPU only).
   */
  Report latency(String name, boolean baseline, int userCount, double rate, Duration warmup,
      Duration duration, CpuMeter cpu) throws Exception {
    String[] users = target.users(userCount);
    DeliveryRecorder recorder = new DeliveryRecorder(userCount);
    CpuMeter meter = baseline ? cpu.brokerOnly() : cpu;
    try (Rig rig = baseline ? baseline(recorder) : homing(users, recorder)) {
      Publisher publisher = new Publisher(rig.sink(), recorder, users, target.payloadBytes);
      publisher.run(rate, warmup, () -> Progress.sample("warm-up", recorder.sample()));
      awaitDelivered(recorder, Duration.ofSeconds(10));
      recorder.sample();
      recorder.resetLatency();
      long receivedBefore = recorder.received();
      CpuMeter.Snapshot cpuBefore = meter.snapshot();
      publisher.run(rate, duration, () -> Progress.sample(name, recorder.sample()));
      awaitDelivered(recorder, Duration.ofSeconds(30));
      recorder.sample();
      Map<String, Object> cpuPerMessage =
          meter.perMessage(cpuBefore, meter.snapshot(), recorder.received() - receivedBefore);
      return new Report(name)
          .parameter("users", userCount)
          .parameter("rate_per_s", rate)
          .parameter("seconds", duration.toSeconds())
          .parameter("warmup_seconds", warmup.toSeconds())
          .parameter("payload_bytes", target.payloadBytes)
          .parameter("via", baseline ? "raw kafka" : target.via)
          .latency("", recorder.latency())
          .result("publish_failures", rig.sink().failures())
          .cpu(meter, cpuPerMessage)
          .recorder(recorder);
    }
  }

  /**
   * Steps the rate up as {@link RateStepper} does; reports the sustainable rate (the highest step
   * whose p99 passed and that kept up), the highest rate delivery kept up with (p99 ignored),
   * each with its step's latency, and every attempt with its CPU per message.
   */
  Report throughput(String name, boolean baseline, int userCount, StepPlan plan, CpuMeter cpu)
      throws Exception {
    String[] users = target.users(userCount);
    DeliveryRecorder recorder = new DeliveryRecorder(userCount);
    CpuMeter meter = baseline ? cpu.brokerOnly() : cpu;
    try (Rig rig = baseline ? baseline(recorder) : homing(users, recorder)) {
      Publisher publisher = new Publisher(rig.sink(), recorder, users, target.payloadBytes);
      RateStepper.Outcome outcome = new RateStepper(plan, publisher, recorder, meter).run();
      awaitDelivered(recorder, Duration.ofSeconds(60));
      recorder.sample();
      Report report = new Report(name)
          .parameter("users", userCount)
          .parameter("start_rate_per_s", plan.startRate())
          .parameter("factor", plan.factor())
          .parameter("max_rate_per_s", plan.maxRate())
          .parameter("max_p99_ms", plan.maxP99Millis())
          .parameter("step_seconds", plan.step().toSeconds())
          .parameter("warmup_seconds", plan.warmup().toSeconds())
          .parameter("retry_pause_seconds", plan.retryPause().toSeconds())
          .parameter("payload_bytes", target.payloadBytes)
          .parameter("via", baseline ? "raw kafka" : target.via)
          .result("sustainable_per_s", deliveredPerSecond(outcome.sustainable()))
          .result("keeps_up_per_s", deliveredPerSecond(outcome.keepsUp()))
          .result("steps", outcome.steps().stream().map(RateStepper.Step::row).toList())
          .result("publish_failures", rig.sink().failures())
          .cpu(meter, Map.of());
      if (outcome.sustainable() != null) {
        report.latency("at_sustainable_", outcome.sustainable().latency());
      }
      if (outcome.keepsUp() != null) {
        report.latency("keeps_up_", outcome.keepsUp().latency());
      }
      return report.recorder(recorder);
    }
  }

  private static long deliveredPerSecond(RateStepper.Step step) {
    return step == null ? 0 : Math.round(step.deliveredPerSecond());
  }

  /** Queues {@code messages} for each of {@code userCount} offline users, then connects them. */
  Report backlog(int userCount, int messages) throws Exception {
    String[] users = target.users(userCount);
    DeliveryRecorder recorder = new DeliveryRecorder(userCount);
    long total = (long) userCount * messages;
    try (Sink sink = target.homingSink()) {
      new Publisher(sink, recorder, users, target.payloadBytes).burst(messages);
      sink.flush();
      Progress.line("published %d messages; waiting for core to store them", total);
      awaitCoreCaughtUp(Duration.ofMinutes(5));
    }
    long start = System.nanoTime();
    try (ClientFleet fleet = new ClientFleet()) {
      ClientFleet.Ramp ramp =
          fleet.connect(users, target.edges, target.sources, target.secret, target.ca, recorder,
              n -> Progress.line("connecting %d/%d", n, userCount));
      awaitDelivered(recorder, Duration.ofMinutes(5));
      double seconds = (System.nanoTime() - start) / 1e9;
      recorder.sample();
      return new Report("backlog")
          .parameter("users", userCount)
          .parameter("messages_per_user", messages)
          .parameter("payload_bytes", target.payloadBytes)
          .parameter("via", target.via)
          .result("connect_seconds", Report.round(ramp.seconds()))
          .result("all_delivered_seconds", Report.round(seconds))
          .result("drain_per_s", Math.round(recorder.received() / seconds))
          .recorder(recorder);
    }
  }

  /** Ramps to {@code count} idle connections on the first edge and measures that edge. */
  Report connections(int count, Duration hold, long edgePid) throws Exception {
    long pid = edgePid > 0 ? edgePid : ProcessStats.listeningOn(target.edges.get(0).getPort());
    ProcessStats before = ProcessStats.measure(pid);
    String[] users = target.users(count);
    DeliveryRecorder recorder = new DeliveryRecorder(count);
    try (ClientFleet fleet = new ClientFleet()) {
      ClientFleet.Ramp ramp =
          fleet.connect(users, List.of(target.edges.get(0)), target.sources, target.secret,
              target.ca, recorder, n -> Progress.line("connected %d/%d", n, count));
      Thread.sleep(hold.toMillis());
      ProcessStats after = ProcessStats.measure(pid);
      double heapPer = (after.heapUsedBytes() - before.heapUsedBytes()) / (double) ramp.connected();
      double rssPer = (after.rssBytes() - before.rssBytes()) / (double) ramp.connected();
      return new Report("connections")
          .parameter("connections", count)
          .parameter("edge_pid", pid)
          .result("connected", ramp.connected())
          .result("failed", ramp.failed())
          .result("ramp_seconds", Report.round(ramp.seconds()))
          .result("ramp_per_s", Math.round(ramp.perSecond()))
          .result("edge_heap_before_mib", Report.round(before.heapUsedBytes() / 1048576.0))
          .result("edge_heap_after_mib", Report.round(after.heapUsedBytes() / 1048576.0))
          .result("edge_heap_per_connection_bytes", Math.round(heapPer))
          .result("edge_rss_per_connection_bytes", Math.round(rssPer))
          .result("budget_1m_connections_heap_gib", Report.round(heapPer * 1e6 / (1L << 30)))
          .result("budget_1m_connections_rss_gib", Report.round(rssPer * 1e6 / (1L << 30)))
          .recorder(recorder);
    }
  }

  /** Waits until the recorder received everything sent, sampling progress every second. */
  static void awaitDelivered(DeliveryRecorder recorder, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    long nextSample = System.nanoTime() + 1_000_000_000L;
    while (recorder.received() < recorder.sent() && System.nanoTime() < deadline) {
      Thread.sleep(5);
      if (System.nanoTime() >= nextSample) {
        Progress.sample("draining", recorder.sample());
        nextSample += 1_000_000_000L;
      }
    }
  }

  /** Waits until delivery-core's group has consumed everything in outbound. */
  private void awaitCoreCaughtUp(Duration timeout) throws Exception {
    String outbound = target.topicPrefix + "outbound";
    try (Admin admin = Admin.create(target.kafkaConnection().clientConfig())) {
      int partitions =
          admin.describeTopics(Set.of(outbound)).allTopicNames().get(30, TimeUnit.SECONDS)
              .get(outbound).partitions().size();
      Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
      for (int p = 0; p < partitions; p++) {
        latest.put(new TopicPartition(outbound, p), OffsetSpec.latest());
      }
      Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends =
          admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS);
      long deadline = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < deadline) {
        Map<TopicPartition, OffsetAndMetadata> committed =
            admin.listConsumerGroupOffsets(target.coreGroup).partitionsToOffsetAndMetadata()
                .get(30, TimeUnit.SECONDS);
        long lag = 0;
        for (var e : ends.entrySet()) {
          OffsetAndMetadata c = committed.get(e.getKey());
          lag += Math.max(0, e.getValue().offset() - (c == null ? 0 : c.offset()));
        }
        if (lag == 0) {
          return;
        }
        Thread.sleep(100);
      }
      throw new IllegalStateException("delivery-core did not catch up within " + timeout);
    }
  }
}
