package io.homing.core.pipeline;

import io.homing.api.v1.Message;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What applying records (or a sweep) decided, for the dispatcher and the meters: the messages
 * queued per user, what devices did (connected, acked, went away) in log order, the users whose
 * queue refused a message, and how many messages each rule took or removed.
 */
final class Outcome {
  record Queued(long seq, Message message) {}

  /**
   * What an operator did to a user: erased her, paused or resumed her delivery; {@code position}
   * is the number of session changes before it in this outcome, which keeps their log order.
   */
  record AdminChange(String userId, AdminKind kind, int position) {}

  enum AdminKind { ERASED, PAUSED, RESUMED }

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
  /** Users whose delivery an operator paused, of those messages were queued for. */
  final Set<String> paused = new LinkedHashSet<>();
  /** What operators did to users (admin API), in log order. */
  final List<AdminChange> adminChanges = new ArrayList<>();
  int accepted;
  int duplicates;
  int rejected;
  int dropped;
  int expired;
  int devicesForgotten;
  int pushTargetsInvalidated;

  void queued(String userId, long seq, Message message) {
    queued.computeIfAbsent(userId, u -> new ArrayList<>()).add(new Queued(seq, message));
    accepted++;
  }

  void changed(
      Kind kind, String userId, String deviceId, String nodeId, String connectionId, long cursor) {
    sessionChanges.add(new SessionChange(kind, userId, deviceId, nodeId, connectionId, cursor));
  }

  void rejected(String userId) {
    full.add(userId);
    rejected++;
  }

  /** Whether there is anything to deliver or to act on. */
  boolean isEmpty() {
    return queued.isEmpty() && sessionChanges.isEmpty() && full.isEmpty()
        && adminChanges.isEmpty();
  }
}
