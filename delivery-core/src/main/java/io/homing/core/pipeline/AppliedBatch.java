package io.homing.core.pipeline;

import io.homing.api.v1.Message;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What one poll batch changed, to act on once the store committed it: the messages queued per
 * user, and what devices did (connected, acked, went away), in log order.
 */
final class AppliedBatch {
  record Queued(long seq, Message message) {}

  /** What a device did. */
  enum Kind { CONNECTED, ACKED, DISCONNECTED }

  /**
   * A device connected, acked or went away; {@code cursor} is its ack cursor after the change
   * (what a new connection resumes after), 0 for a disconnect.
   */
  record SessionChange(
      Kind kind, String userId, String deviceId, String nodeId, String connectionId, long cursor) {}

  final Map<String, List<Queued>> queued = new LinkedHashMap<>();
  final List<SessionChange> sessionChanges = new ArrayList<>();
  /** Users a message was refused for because their queue is full. */
  final Set<String> full = new LinkedHashSet<>();

  void queued(String userId, long seq, Message message) {
    queued.computeIfAbsent(userId, u -> new ArrayList<>()).add(new Queued(seq, message));
  }

  void changed(
      Kind kind, String userId, String deviceId, String nodeId, String connectionId, long cursor) {
    sessionChanges.add(new SessionChange(kind, userId, deviceId, nodeId, connectionId, cursor));
  }

  void full(String userId) {
    full.add(userId);
  }

  boolean isEmpty() {
    return queued.isEmpty() && sessionChanges.isEmpty();
  }
}
