package io.homing.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.homing.api.v1.Message;
import io.homing.client.PushListener;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** What one test client received, in arrival order. */
final class Inbox implements PushListener {
  record Received(long seq, String text, Message message) {}

  private final LinkedBlockingQueue<Received> queue = new LinkedBlockingQueue<>();

  @Override
  public void onMessage(long seq, Message message) {
    queue.add(new Received(seq, message.getPayload().toString(StandardCharsets.UTF_8), message));
  }

  /** Waits for the next {@code count} messages, failing after {@code timeout}. */
  List<Received> take(int count, Duration timeout) throws InterruptedException {
    List<Received> result = new ArrayList<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (result.size() < count) {
      Received next = queue.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
      assertThat(next)
          .as("message %d of %d within %s (got %s)", result.size() + 1, count, timeout, result)
          .isNotNull();
      result.add(next);
    }
    return result;
  }

  /** Messages received and not taken yet. */
  int pending() {
    return queue.size();
  }

  List<Received> take(int count) throws InterruptedException {
    return take(count, Duration.ofSeconds(20));
  }
}
