package io.homing.edge.session;

import io.homing.api.v1.Publish;
import io.homing.edge.auth.Identity;
import java.util.function.Consumer;

/** Where a client's Publish frames go: the topic {@code inbound}. */
public interface Uplink {
  /**
   * Writes the frame for the sender, then calls {@code done} with null once Kafka acked it, or
   * with why it could not be written. Never blocks the caller; {@code done} runs on any thread.
   */
  void publish(Identity sender, String connectionId, Publish publish, Consumer<Exception> done);
}
