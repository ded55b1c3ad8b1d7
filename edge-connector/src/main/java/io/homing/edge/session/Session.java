package io.homing.edge.session;

import io.homing.api.v1.Error;
import io.homing.api.v1.Message;
import io.homing.api.v1.Push;
import io.homing.api.v1.ServerFrame;
import io.homing.edge.auth.Identity;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;

/** One authenticated client connection on this node. Thread-safe: writes go to the channel. */
public final class Session {
  private final Identity identity;
  private final String connectionId;
  private final Channel channel;
  private volatile long lastAcked;

  Session(Identity identity, String connectionId, Channel channel) {
    this.identity = identity;
    this.connectionId = connectionId;
    this.channel = channel;
  }

  public Identity identity() {
    return identity;
  }

  public String connectionId() {
    return connectionId;
  }

  /** The highest seq the client acked on this connection, or the last seq it connected with. */
  public long lastAcked() {
    return lastAcked;
  }

  void acked(long seq) {
    if (seq > lastAcked) {
      lastAcked = seq;
    }
  }

  /**
   * Writes a Push frame. Returns false when the connection is already closed, in which case the
   * message stays queued in the store for the device's next connection.
   */
  public boolean push(long seq, long prevSeq, Message message) {
    if (!channel.isActive()) {
      return false;
    }
    channel.writeAndFlush(
        ServerFrame.newBuilder()
            .setPush(Push.newBuilder().setSeq(seq).setPrevSeq(prevSeq).setMessage(message))
            .build(),
        channel.voidPromise());
    return true;
  }

  /** Sends the error, then closes the connection; the future completes once it is closed. */
  public ChannelFuture closeWith(Error.Code code, String reason) {
    channel.writeAndFlush(Frames.error(code, reason)).addListener(ChannelFutureListener.CLOSE);
    return channel.closeFuture();
  }
}
