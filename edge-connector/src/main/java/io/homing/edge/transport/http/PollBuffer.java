package io.homing.edge.transport.http;

import io.homing.api.v1.ServerFrame;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * What a long-poll session holds for its client between polls, the pure part of {@link
 * PollSession}: the pushes not yet acknowledged, in seq order and at most {@code capacity} of them;
 * the AuthOk until a poll took it; the frame that ended the session. A poll takes the AuthOk, the
 * pushes after its {@code after} and the end, so a poll that repeats an {@code after} gets the
 * same pushes again. A push at or below a seq the buffer holds or was acked through is a resend
 * of one the client gets anyway, and is dropped. Not thread-safe.
 */
final class PollBuffer {
  private final int capacity;
  private final ArrayDeque<ServerFrame> pushes = new ArrayDeque<>();
  private long acked;
  private ServerFrame authOk;
  private ServerFrame end;

  PollBuffer(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity: " + capacity + " (expected: > 0)");
    }
    this.capacity = capacity;
  }

  /**
   * Keeps a frame for the next poll; other frames than AuthOk, Push, Error and AuthError (a Pong)
   * are dropped. Returns false when a push does not fit: the session must end.
   */
  boolean add(ServerFrame frame) {
    switch (frame.getKindCase()) {
      case AUTH_OK -> authOk = frame;
      case PUSH -> {
        long seq = frame.getPush().getSeq();
        if (seq <= acked || (!pushes.isEmpty() && seq <= pushes.getLast().getPush().getSeq())) {
          return true;
        }
        if (pushes.size() == capacity) {
          return false;
        }
        pushes.addLast(frame);
      }
      case ERROR, AUTH_ERROR -> end = frame;
      default -> { }
    }
    return true;
  }

  /** The client holds every seq up to {@code seq}: forgets those pushes. */
  void ack(long seq) {
    acked = Math.max(acked, seq);
    while (!pushes.isEmpty() && pushes.getFirst().getPush().getSeq() <= acked) {
      pushes.removeFirst();
    }
  }

  /** Whether a poll after {@code after} would get a frame. */
  boolean hasFramesAfter(long after) {
    return authOk != null || end != null
        || (!pushes.isEmpty() && pushes.getLast().getPush().getSeq() > after);
  }

  /** Whether the frame that ended the session is here: the next poll is its last. */
  boolean ended() {
    return end != null;
  }

  /** The answer to a poll after {@code after}: the AuthOk (only once), the pushes, the end. */
  List<ServerFrame> take(long after) {
    List<ServerFrame> frames = new ArrayList<>();
    if (authOk != null) {
      frames.add(authOk);
      authOk = null;
    }
    for (ServerFrame push : pushes) {
      if (push.getPush().getSeq() > after) {
        frames.add(push);
      }
    }
    if (end != null) {
      frames.add(end);
    }
    return frames;
  }

  int size() {
    return pushes.size();
  }
}
