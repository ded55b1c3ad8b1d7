package io.homing.loadtest;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * Steps the publish rate up by the plan's factor, one measured step at a time. A step that fails —
 * p99 over the threshold, or delivery behind — is retried once at the same rate, after delivery
 * drained and a pause: on a shared two-core machine one noisy step should not end the run.
 * Stepping goes on past a p99 failure while delivery keeps up, so one run gives both the rate
 * sustainable within the p99 threshold and the highest rate delivery keeps up with; it ends when
 * delivery falls behind in both attempts at a rate, or past the maximum rate.
 */
final class RateStepper {
  private static final Duration DRAIN_AFTER_STEP = Duration.ofSeconds(2);
  private static final Duration DRAIN_BEFORE_RETRY = Duration.ofSeconds(60);
  private static final Duration DRAIN_AFTER_WARMUP = Duration.ofSeconds(10);

  private final StepPlan plan;
  private final Publisher publisher;
  private final DeliveryRecorder recorder;
  private final CpuMeter cpu;

  RateStepper(StepPlan plan, Publisher publisher, DeliveryRecorder recorder, CpuMeter cpu) {
    this.plan = plan;
    this.publisher = publisher;
    this.recorder = recorder;
    this.cpu = cpu;
  }

  /**
   * Every attempt in order; the highest step that passed (p99 and kept up) and the highest that
   * kept up, each null if none did.
   */
  record Outcome(List<Step> steps, Step sustainable, Step keepsUp) {}

  /** One attempt at one rate. */
  record Step(double rate, int attempt, double deliveredPerSecond, Histogram latency,
      boolean p99Passed, long behind, boolean keptUp, Map<String, Object> cpuPerMessage) {
    boolean passed() {
      return p99Passed && keptUp;
    }

    /** The step as the report lists it. */
    Map<String, Object> row() {
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("target_per_s", Math.round(rate));
      row.put("attempt", attempt);
      row.put("delivered_per_s", Math.round(deliveredPerSecond));
      row.put("p50_ms", percentileMillis(50));
      row.put("p99_ms", percentileMillis(99));
      row.put("behind", behind);
      row.put("keeps_up", keptUp);
      row.put("pass", passed());
      row.putAll(cpuPerMessage);
      return row;
    }

    private double percentileMillis(double percentile) {
      return Report.millis(
          latency.getTotalCount() == 0 ? 0 : latency.getValueAtPercentile(percentile));
    }
  }

  Outcome run() throws InterruptedException {
    warmUp();
    List<Step> steps = new ArrayList<>();
    Step sustainable = null;
    Step keepsUp = null;
    for (double rate = plan.startRate(); rate <= plan.maxRate(); rate *= plan.factor()) {
      Step step = measure(rate, 1);
      steps.add(step);
      if (!step.passed()) {
        Bench.awaitDelivered(recorder, DRAIN_BEFORE_RETRY);
        Thread.sleep(plan.retryPause().toMillis());
        step = measure(rate, 2);
        steps.add(step);
      }
      if (!step.keptUp()) {
        break;
      }
      keepsUp = step;
      if (step.passed()) {
        sustainable = step;
      }
    }
    return new Outcome(steps, sustainable, keepsUp);
  }

  /**
   * Unmeasured: a third of the time at a quarter of the start rate, then the start rate — so the
   * stack's JVMs have compiled their hot paths before the first counted step, without a cold
   * stack meeting the full rate at once.
   */
  private void warmUp() throws InterruptedException {
    Duration gentle = plan.warmup().dividedBy(3);
    Runnable tick = () -> Progress.sample("warm-up", recorder.sample());
    publisher.run(plan.startRate() / 4, gentle, tick);
    publisher.run(plan.startRate(), plan.warmup().minus(gentle), tick);
    Bench.awaitDelivered(recorder, DRAIN_AFTER_WARMUP);
  }

  private Step measure(double rate, int attempt) throws InterruptedException {
    recorder.sample();
    recorder.resetLatency();
    long sentBefore = recorder.sent();
    long receivedBefore = recorder.received();
    CpuMeter.Snapshot cpuBefore = cpu.snapshot();
    String label = String.format("%.0f/s", rate);
    publisher.run(rate, plan.step(), () -> Progress.sample(label, recorder.sample()));
    long sentInStep = recorder.sent() - sentBefore;
    Bench.awaitDelivered(recorder, DRAIN_AFTER_STEP);
    recorder.sample();
    long receivedInStep = recorder.received() - receivedBefore;
    Map<String, Object> cpuPerMessage = cpu.perMessage(cpuBefore, cpu.snapshot(), receivedInStep);
    Histogram h = recorder.latency();
    double p99 = h.getTotalCount() == 0 ? Double.MAX_VALUE : h.getValueAtPercentile(99) / 1000.0;
    long behind = recorder.sent() - recorder.received();
    Step step = new Step(rate, attempt, receivedInStep / (double) plan.step().toSeconds(), h,
        p99 <= plan.maxP99Millis(), behind, behind <= Math.max(10, sentInStep / 100),
        cpuPerMessage);
    Progress.line("step %s attempt %d: delivered %.0f/s p99 %.1f ms behind %d -> %s", label,
        attempt, step.deliveredPerSecond(), p99, behind, verdict(step));
    return step;
  }

  private String verdict(Step step) {
    if (step.passed()) {
      return "pass";
    }
    String why = step.keptUp()
        ? "p99 over " + Summary.number(plan.maxP99Millis()) + " ms"
        : "delivery behind";
    if (step.attempt() == 1) {
      return why + ", retrying after the drain and " + plan.retryPause().toSeconds() + " s";
    }
    return why + (step.keptUp() ? ", delivery keeps up: stepping on" : ": stop");
  }
}
