package io.homing.edge.transport.http;

import io.homing.edge.auth.Identity;
import io.homing.edge.session.Session;
import io.homing.edge.session.SessionContext;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The long-poll sessions of this node, one per device: the first poll of a device starts one on
 * the event loop of the connection it came on, later polls find it. A session that ended stays
 * until a poll took what it left, or for the idle timeout. Thread-safe.
 */
final class PollSessions {
  private final SessionContext context;
  private final ConcurrentMap<Identity, PollSession> sessions = new ConcurrentHashMap<>();

  PollSessions(SessionContext context) {
    this.context = context;
  }

  /** Hands the poll to the device's session, starting one if it has none. Any thread. */
  void poll(Identity device, PollSession.Poll poll) {
    PollSession session = sessions.get(device);
    if (session == null) {
      PollSession created = new PollSession(this, device,
          new PollChannel(poll.client().remoteAddress()), new Session(context, true),
          context.idleTimeout());
      session = sessions.putIfAbsent(device, created);
      if (session == null) {
        session = created;
        created.start(poll.client().eventLoop(), poll);
      }
    }
    session.poll(poll);
  }

  /** Forgets the device's session, if it is still this one. */
  void remove(Identity device, PollSession session) {
    sessions.remove(device, session);
  }
}
