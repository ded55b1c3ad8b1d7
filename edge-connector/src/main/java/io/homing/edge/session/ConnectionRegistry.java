package io.homing.edge.session;

import io.homing.api.v1.Error;
import io.homing.edge.auth.Identity;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

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

  /** Tells every client why, then closes its connection: for shutting this node down. */
  public void closeAll(Error.Code code, String reason) {
    sessions.values().forEach(session -> session.closeWith(code, reason));
  }

  public int size() {
    return sessions.size();
  }
}
