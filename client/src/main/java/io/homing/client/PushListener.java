package io.homing.client;

import io.homing.api.v1.Message;

/**
 * Receives a connection's messages, each once and in seq order. Called on the connection's event
 * loop: return quickly, hand long work to another thread.
 */
@FunctionalInterface
public interface PushListener {
  void onMessage(long seq, Message message);
}
