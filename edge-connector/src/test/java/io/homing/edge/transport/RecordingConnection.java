package io.homing.edge.transport;

import io.homing.api.v1.ClientFrame;
import io.homing.edge.session.Connection;
import io.netty.channel.Channel;
import java.util.ArrayDeque;
import java.util.Queue;

/** What a transport handed to the session above it, for tests of the transport alone. */
public final class RecordingConnection implements Connection {
  /** The frames read, oldest first. */
  public final Queue<ClientFrame> frames = new ArrayDeque<>();
  public Channel started;
  public boolean closed;
  public Throwable failure;

  @Override
  public void start(Channel channel) {
    started = channel;
  }

  @Override
  public void read(ClientFrame frame) {
    frames.add(frame);
  }

  @Override
  public void closed() {
    closed = true;
  }

  @Override
  public void failed(Throwable cause) {
    failure = cause;
  }

  @Override
  public void abandon() {
    throw new AssertionError("a transport never abandons its connection");
  }
}
