package io.homing.edge.session;

import io.homing.api.v1.Error;
import io.netty.channel.ChannelFuture;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The authenticated connections of this node, one per (user, device). Thread-safe.
 *
 * <p>Found by user id: the entry of a user is her one session, or an array of the sessions of her
 * devices (never changed once in the map: a change puts a new one). Most users have one device on
 * a node, so that the registry costs a connection one map node and no key object of its own.
 */
public final class ConnectionRegistry {
  /** User id → {@link Session}, or {@code Session[]} of two or more devices. */
  private final ConcurrentMap<String, Object> users = new ConcurrentHashMap<>();
  private final AtomicInteger size = new AtomicInteger();
  private final int maxPerUser;

  /** @param maxPerUser how many devices one user may hold connected on this node */
  public ConnectionRegistry(int maxPerUser) {
    if (maxPerUser < 1) {
      throw new IllegalArgumentException("maxPerUser: " + maxPerUser + " (expected: >= 1)");
    }
    this.maxPerUser = maxPerUser;
  }

  /**
   * Adds the authenticated session; returns the session it replaced for the same device, or null.
   * When the user holds {@code maxPerUser} other devices here already, it adds nothing and returns
   * the session itself.
   */
  Session register(Session session) {
    Session[] replaced = new Session[1];
    users.compute(session.userId(), (user, held) -> {
      if (held == null) {
        return session;
      }
      Session[] devices = devices(held);
      for (int i = 0; i < devices.length; i++) {
        if (devices[i].deviceId().equals(session.deviceId())) {
          replaced[0] = devices[i];
          if (devices.length == 1) {
            return session;
          }
          Session[] changed = devices.clone();
          changed[i] = session;
          return changed;
        }
      }
      if (devices.length >= maxPerUser) {
        replaced[0] = session;
        return held;
      }
      Session[] added = Arrays.copyOf(devices, devices.length + 1);
      added[devices.length] = session;
      return added;
    });
    if (replaced[0] == null) {
      size.incrementAndGet();
    }
    return replaced[0];
  }

  /** Removes the session only if it is still the device's current one; returns whether it did. */
  boolean unregister(Session session) {
    boolean[] removed = new boolean[1];
    users.computeIfPresent(session.userId(), (user, held) -> {
      Session[] devices = devices(held);
      for (int i = 0; i < devices.length; i++) {
        if (devices[i] == session) {
          removed[0] = true;
          if (devices.length == 1) {
            return null;
          }
          if (devices.length == 2) {
            return devices[1 - i];
          }
          Session[] rest = new Session[devices.length - 1];
          System.arraycopy(devices, 0, rest, 0, i);
          System.arraycopy(devices, i + 1, rest, i, rest.length - i);
          return rest;
        }
      }
      return held;
    });
    if (removed[0]) {
      size.decrementAndGet();
    }
    return removed[0];
  }

  /** The device's connection on this node, or null. */
  public Session find(String userId, String deviceId) {
    Object held = users.get(userId);
    if (held instanceof Session session) {
      return session.deviceId().equals(deviceId) ? session : null;
    }
    if (held != null) {
      for (Session session : (Session[]) held) {
        if (session.deviceId().equals(deviceId)) {
          return session;
        }
      }
    }
    return null;
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
    forEach(session -> closing.add(session.closeWith(code, reason)));
    long deadline = System.nanoTime() + timeout.toNanos();
    for (ChannelFuture f : closing) {
      long left = deadline - System.nanoTime();
      if (left <= 0 || !f.await(left, TimeUnit.NANOSECONDS)) {
        return;
      }
    }
  }

  /**
   * Calls {@code action} with every session registered, without copying them: sessions that
   * come or go meanwhile may be seen or not, as with a concurrent map's values.
   */
  public void forEach(Consumer<Session> action) {
    for (Object held : users.values()) {
      if (held instanceof Session session) {
        action.accept(session);
      } else {
        for (Session session : (Session[]) held) {
          action.accept(session);
        }
      }
    }
  }

  /** How many sessions are registered now. */
  public int size() {
    return size.get();
  }

  private static Session[] devices(Object held) {
    return held instanceof Session session ? new Session[] {session} : (Session[]) held;
  }
}
