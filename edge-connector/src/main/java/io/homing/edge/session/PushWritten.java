package io.homing.edge.session;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.DefaultChannelPromise;

/**
 * The promise of one Push write, and its own listener: one object per push, in place of the void
 * promise, so that the {@link Session} learns when the frame reached the socket (for a long-poll,
 * its poll buffer) and can record the message's delivery latency. A failed write is fired down
 * the pipeline as the void promise would, which closes the connection.
 */
final class PushWritten extends DefaultChannelPromise implements ChannelFutureListener {
  private final Session session;
  private final long seq;
  private final long createdAtMs;

  private PushWritten(Channel channel, Session session, long seq, long createdAtMs) {
    super(channel);
    this.session = session;
    this.seq = seq;
    this.createdAtMs = createdAtMs;
  }

  static PushWritten of(Channel channel, Session session, long seq, long createdAtMs) {
    PushWritten promise = new PushWritten(channel, session, seq, createdAtMs);
    promise.addListener(promise);
    return promise;
  }

  @Override
  public void operationComplete(ChannelFuture future) {
    if (future.isSuccess()) {
      session.written(seq, createdAtMs);
    } else {
      session.writeFailed(future.cause());
    }
  }
}
