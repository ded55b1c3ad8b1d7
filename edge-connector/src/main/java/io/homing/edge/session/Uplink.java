package io.homing.edge.session;

import io.homing.api.v1.Publish;
import java.util.function.Consumer;

/** Where a client's Publish frames go: the topic {@code inbound}. */
public interface Uplink {
  /**
   * Writes the frame for the sending device, then calls {@code done} with null once Kafka acked it, or
   * with why it could not be written. Never blocks the caller; {@code done} runs on any thread.
   */
  void publish(String userId, String deviceId, String connectionId, Publish publish,
      Consumer<Exception> done);
}
