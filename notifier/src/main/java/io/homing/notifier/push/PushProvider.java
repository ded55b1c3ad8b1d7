package io.homing.notifier.push;

import io.homing.api.v1.PushTarget;
import java.util.concurrent.CompletableFuture;

/**
 * One push service — APNs, FCM or webhooks — sending a notification to one target of its kind.
 * Implementations are thread-safe and never block the caller on the network.
 */
public interface PushProvider extends AutoCloseable {
  /** The kind of target it sends to. */
  PushTarget.KindCase kind();

  /**
   * Sends the notification to the target (of {@link #kind()}). Never throws and never completes
   * exceptionally: every failure is a {@link PushResult}.
   */
  CompletableFuture<PushResult> send(PushTarget target, PushContent content);

  /** Closes its connections; sends in flight may fail. */
  @Override
  void close();
}
