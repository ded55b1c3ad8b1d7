package io.homing.edge.session;

import io.homing.api.v1.ClientFrame;
import io.netty.channel.Channel;

/**
 * A client connection as its transport sees the layer above it. A socket transport's one codec
 * handler calls it directly, so that the session costs a connection no pipeline context of its
 * own; a transport whose frames come down a pipeline puts a {@link SessionHandler} there instead.
 * {@link Session} is the implementation. Every call comes on the channel's event loop.
 */
public interface Connection {
  /** The channel is active: the connection starts (its auth timeout, for one). */
  void start(Channel channel);

  /** A frame from the client. */
  void read(ClientFrame frame);

  /** The channel went inactive. */
  void closed();

  /** Something failed that the transport cannot answer itself: the connection closes. */
  void failed(Throwable cause);

  /**
   * The connection's pipeline let go of it without handing it to a transport handler — the
   * connection turned out to speak plain HTTP, or it ended: it lets go of what it holds (its
   * timers). It may come after {@link #closed}.
   */
  void abandon();
}
