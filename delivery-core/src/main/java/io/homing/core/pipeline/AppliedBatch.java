package io.homing.core.pipeline;

import io.homing.api.v1.Message;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one poll batch changed, to act on once the store committed it: the messages queued per
 * user, and the devices that connected or disconnected, in log order.
 */
final class AppliedBatch {
  record Queued(long seq, Message message) {}

  /** A device connected ({@code connected}, with the cursor to resume after) or went away. */
  record SessionChange(
      String userId, String deviceId, String nodeId, String connectionId, boolean connected,
      long cursor) {}

  final Map<String, List<Queued>> queued = new LinkedHashMap<>();
  final List<SessionChange> sessionChanges = new ArrayList<>();

  void queued(String userId, long seq, Message message) {
    queued.computeIfAbsent(userId, u -> new ArrayList<>()).add(new Queued(seq, message));
  }

  void connected(String userId, String deviceId, String nodeId, String connectionId, long cursor) {
    sessionChanges.add(new SessionChange(userId, deviceId, nodeId, connectionId, true, cursor));
  }

  void disconnected(String userId, String deviceId, String nodeId, String connectionId) {
    sessionChanges.add(new SessionChange(userId, deviceId, nodeId, connectionId, false, 0));
  }

  boolean isEmpty() {
    return queued.isEmpty() && sessionChanges.isEmpty();
  }
}
