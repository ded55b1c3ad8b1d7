package io.homing.edge.session;

import io.homing.api.v1.Error;
import io.homing.edge.auth.Identity;
import io.netty.channel.ChannelFuture;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;

/** The authenticated connections of this node, one per (user, device). Thread-safe. */
public final class ConnectionRegistry {
  private final ConcurrentMap<Identity, Session> sessions = new ConcurrentHashMap<>();

  /** Adds the session; returns the session it replaced for the same device, or null. */
  Session register(Session session) {
    return sessions.put(session.identity(), session);
  }

  /** Removes the session only if it is still the device's current one. */
  boolean unregister(Session session) {
    return sessions.remove(session.identity(), session);
  }

  /** The device's connection on this node, or null. */
  public Session find(String userId, String deviceId) {
    return sessions.get(new Identity(userId, deviceId));
  }

  /**
   * Sends the error and closes the device's connection, if it is still the one named (a newer
   * connection of the device stays); returns whether it did. Never blocks.
   */
  public boolean closeIfCurrent(
      String userId, String deviceId, String connectionId, Error.Code code, String reason) {
    Session session = find(userId, deviceId);
    if (session == null || !session.isConnection(connectionId)) {
      return false;
    }
    session.closeWith(code, reason);
    return true;
  }

  /**
   * Tells every client why, then closes its connection: for shutting this node down. Waits up to
   * {@code timeout} for the connections to close, so the event loops are not stopped under
   * writes still queued (the client would miss the reason).
   */
  public void closeAll(Error.Code code, String reason, Duration timeout)
      throws InterruptedException {
    List<ChannelFuture> closing = new ArrayList<>();
    sessions.values().forEach(session -> closing.add(session.closeWith(code, reason)));
    long deadline = System.nanoTime() + timeout.toNanos();
    for (ChannelFuture f : closing) {
      long left = deadline - System.nanoTime();
      if (left <= 0 || !f.await(left, TimeUnit.NANOSECONDS)) {
        return;
      }
    }
  }

  /** Every session registered now. */
  public Collection<Session> sessions() {
    return sessions.values();
  }

  public int size() {
    return sessions.size();
  }
}
