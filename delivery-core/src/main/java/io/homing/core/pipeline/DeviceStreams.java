package io.homing.core.pipeline;

import java.util.HashMap;
import java.util.Map;

/**
 * The device connections this core instance streams to, and the highest seq it sent each: the
 * authoritative, in-log-order view of presence for the users it owns. Built from Connected and
 * Disconnected events, and from Redis for devices that connected before this instance owned
 * their partition.
 *
 * <p>It is what keeps a device's stream gap-free: a live message goes to a device only right
 * after the seqs already sent to that connection, and a connection is first brought up to date
 * from the store. Pipeline thread only.
 */
final class DeviceStreams {
  /** One device connection and how far core sent it. */
  static final class Stream {
    final String nodeId;
    final String connectionId;
    long sentThrough;

    Stream(String nodeId, String connectionId, long sentThrough) {
      this.nodeId = nodeId;
      this.connectionId = connectionId;
      this.sentThrough = sentThrough;
    }
  }

  private final Map<String, Map<String, Stream>> byUser = new HashMap<>();

  Stream get(String userId, String deviceId) {
    Map<String, Stream> devices = byUser.get(userId);
    return devices == null ? null : devices.get(deviceId);
  }

  /** The user's streams, by device; empty when none. */
  Map<String, Stream> of(String userId) {
    return byUser.getOrDefault(userId, Map.of());
  }

  void open(String userId, String deviceId, Stream stream) {
    byUser.computeIfAbsent(userId, u -> new HashMap<>()).put(deviceId, stream);
  }

  /** Forgets the device's stream if it is still the one to {@code connectionId}. */
  void close(String userId, String deviceId, String connectionId) {
    Map<String, Stream> devices = byUser.get(userId);
    if (devices == null) {
      return;
    }
    Stream current = devices.get(deviceId);
    if (current != null && current.connectionId.equals(connectionId)) {
      devices.remove(deviceId);
      if (devices.isEmpty()) {
        byUser.remove(userId);
      }
    }
  }

  /** Forgets everything: after a rebalance, streams are rebuilt from events and Redis. */
  void clear() {
    byUser.clear();
  }
}
