package io.homing.edge.session;

import io.homing.api.v1.Publish;
import io.homing.api.v1.PushTarget;
import java.util.function.Consumer;

/**
 * What a client sends beyond acks, to Kafka: its Publish frames to the topic {@code inbound}, its
 * push target to {@code delivery-events}.
 */
public interface Uplink {
  /**
   * Writes the frame for the sending device, then calls {@code done} with null once Kafka acked it, or
   * with why it could not be written. Never blocks the caller; {@code done} runs on any thread.
   */
  void publish(String userId, String deviceId, String connectionId, Publish publish,
      Consumer<Exception> done);

  /**
   * Writes the device's new push target ({@code null}: none), then calls {@code done} as
   * {@link #publish} does.
   */
  void pushTarget(String userId, String deviceId, String connectionId, PushTarget target,
      Consumer<Exception> done);
}
