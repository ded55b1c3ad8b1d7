package io.homing.loadtest;

import java.time.Duration;

/**
 * How a throughput run steps the rate: after {@code warmup}, from {@code startRate} up by
 * {@code factor} every {@code step} to at most {@code maxRate}. A step passes while its p99 stays
 * at or under {@code maxP99Millis} and delivery keeps up; a failed one is retried once, after
 * delivery drained and {@code retryPause}. Named after the command's options, which it validates.
 */
record StepPlan(double startRate, double factor, double maxRate, double maxP99Millis,
    Duration step, Duration warmup, Duration retryPause) {
  StepPlan {
    if (!(startRate > 0)) {
      throw new IllegalArgumentException("--start-rate: " + startRate + " (expected: > 0)");
    }
    // Stepping goes on past a p99 failure, so a factor of 1 could step forever.
    if (!(factor > 1)) {
      throw new IllegalArgumentException("--factor: " + factor + " (expected: > 1)");
    }
    if (!(maxP99Millis >= 0)) {
      throw new IllegalArgumentException("--max-p99-ms: " + maxP99Millis + " (expected: >= 0)");
    }
    if (step.toSeconds() <= 0) {
      throw new IllegalArgumentException(
          "--step-seconds: " + step.toSeconds() + " (expected: > 0)");
    }
    if (warmup.isNegative()) {
      throw new IllegalArgumentException(
          "--warmup-seconds: " + warmup.toSeconds() + " (expected: >= 0)");
    }
    if (retryPause.isNegative()) {
      throw new IllegalArgumentException(
          "--retry-pause-seconds: " + retryPause.toSeconds() + " (expected: >= 0)");
    }
  }
}
