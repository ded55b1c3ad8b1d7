package io.homing.client;

import io.homing.api.v1.Message;

/**
 * Receives a connection's messages: as its listener each once and in seq order, as its push
 * observer every Push frame as it arrived. Called on the connection's event loop: return quickly,
 * hand long work to another thread.
 */
@FunctionalInterface
public interface PushListener {
  void onMessage(long seq, Message message);
}
