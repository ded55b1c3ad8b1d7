package io.homing.edge.session;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * One thread for the whole node that closes connections silent past the idle timeout and those
 * whose token expired, and drops the publish buckets that refilled, about once a second — instead of a timer per connection, which would cost
 * every idle connection its own handler and scheduled task.
 */
public final class SessionSweeper implements AutoCloseable {
  static final long PERIOD_MILLIS = 1000;

  private final SessionContext context;
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "session-sweeper");
        t.setDaemon(true);
        return t;
      });

  public SessionSweeper(SessionContext context) {
    this.context = context;
  }

  public SessionSweeper start() {
    timer.scheduleWithFixedDelay(this::sweep, PERIOD_MILLIS, PERIOD_MILLIS, TimeUnit.MILLISECONDS);
    return this;
  }

  private void sweep() {
    long nowNanos = System.nanoTime();
    long nowMs = System.currentTimeMillis();
    int idleTicks = (int) context.idleTimeout().toMillis(); // EdgeConfig keeps it under 24 days
    context.registry().forEach(session -> session.sweep(nowNanos, nowMs, idleTicks));
    context.publishLimits().sweep();
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
