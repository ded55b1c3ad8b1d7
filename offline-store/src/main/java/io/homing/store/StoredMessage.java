package io.homing.store;

import io.homing.api.v1.Message;

/** A message in a user's queue, with the seq the store assigned to it. */
public record StoredMessage(long seq, Message message) {}
