package io.homing.core.pipeline;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The device connections this core instance streams to, and the highest seq it sent each: the
 * authoritative, in-log-order view of presence for the users it owns. Built from Connected and
 * Disconnected events, and once per user from Redis for devices that connected before this
 * instance owned their partition.
 *
 * <p>It is what keeps a device's stream gap-free: a live message goes to a device only right
 * after the seqs already sent to that connection, and a connection is first brought up to date
 * from the store. Pipeline thread only.
 */
final class DeviceStreams {
  /**
   * One device connection: how far core sent it, how far the device acked, and when core resends
   * if no ack comes. Everything in (ackedThrough, sentThrough] is in flight.
   */
  static final class Stream {
    final String userId;
    final String deviceId;
    final String nodeId;
    final String connectionId;
    long sentThrough;
    long ackedThrough;
    /** Resends of the oldest message in flight so far. */
    int resends;
    /** System.nanoTime() by which the oldest message in flight must be acked; 0 when none is. */
    long ackDeadline;
    /** Whether the store may hold messages for it beyond what it was sent (the window was full). */
    boolean behind;

    Stream(String userId, String deviceId, String nodeId, String connectionId, long cursor) {
      this.userId = userId;
      this.deviceId = deviceId;
      this.nodeId = nodeId;
      this.connectionId = connectionId;
      this.sentThrough = cursor;
      this.ackedThrough = cursor;
    }

    long inFlight() {
      return sentThrough - ackedThrough;
    }
  }

  /** Users resolved from Redis at most this many are remembered; others are looked up again. */
  static final int MAX_RESOLVED_USERS = 1_000_000;

  private final Map<String, Map<String, Stream>> byUser = new HashMap<>();
  /** Written on the pipeline thread only, so the increments need no atomics. */
  private volatile int size;
  private final Map<String, Boolean> resolved =
      new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
          return size() > MAX_RESOLVED_USERS;
        }
      };

  Stream get(String userId, String deviceId) {
    Map<String, Stream> devices = byUser.get(userId);
    return devices == null ? null : devices.get(deviceId);
  }

  /** The user's streams, by device; empty when none. */
  Map<String, Stream> of(String userId) {
    return byUser.getOrDefault(userId, Map.of());
  }

  void open(Stream stream) {
    if (byUser.computeIfAbsent(stream.userId, u -> new HashMap<>())
        .put(stream.deviceId, stream) == null) {
      size++;
    }
  }

  /** Whether {@code stream} is still the device's current stream. */
  boolean isCurrent(Stream stream) {
    return get(stream.userId, stream.deviceId) == stream;
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
      size--;
      if (devices.isEmpty()) {
        byUser.remove(userId);
      }
    }
  }

  /**
   * Whether the user's devices were read from Redis since this instance owns the user: from then
   * on every connect and disconnect of the user arrives as an event, in order, so Redis has
   * nothing to add.
   */
  boolean resolved(String userId) {
    return resolved.get(userId) != null;
  }

  void markResolved(String userId) {
    resolved.put(userId, Boolean.TRUE);
  }

  /** How many device streams are open; any thread may read it. */
  int size() {
    return size;
  }

  /** Forgets everything: after a rebalance, streams are rebuilt from events and Redis. */
  void clear() {
    byUser.clear();
    size = 0;
    resolved.clear();
  }
}
