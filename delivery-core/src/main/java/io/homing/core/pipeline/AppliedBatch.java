package io.homing.core.pipeline;

import io.homing.api.v1.Message;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one poll batch changed, to act on once the store committed it: the messages queued per
 * user, and the devices that connected (with the node and the cursor to resume after).
 */
final class AppliedBatch {
  record Queued(long seq, Message message) {}

  record Connect(String userId, String deviceId, String nodeId, long cursor) {}

  final Map<String, List<Queued>> queued = new LinkedHashMap<>();
  final Map<String, Connect> connects = new LinkedHashMap<>();

  void queued(String userId, long seq, Message message) {
    queued.computeIfAbsent(userId, u -> new ArrayList<>()).add(new Queued(seq, message));
  }

  /** The latest connect of a device in the batch wins. */
  void connected(String userId, String deviceId, String nodeId, long cursor) {
    connects.put(userId + '\n' + deviceId, new Connect(userId, deviceId, nodeId, cursor));
  }

  boolean connectedInBatch(String userId, String deviceId) {
    return connects.containsKey(userId + '\n' + deviceId);
  }

  boolean isEmpty() {
    return queued.isEmpty() && connects.isEmpty();
  }
}
