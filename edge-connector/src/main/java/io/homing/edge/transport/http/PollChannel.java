package io.homing.edge.transport.http;

import io.netty.channel.AbstractChannel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelMetadata;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.EventLoop;
import java.net.SocketAddress;

/**
 * The channel a long-poll {@link io.homing.edge.session.Session} lives on between polls: no
 * socket, active from its creation until closed, registered on one of the node's event loops.
 * Its pipeline ends in a handler that hands every frame to the poll session, so nothing reaches
 * the channel itself; what would is dropped. It closes only when its session closes it.
 */
final class PollChannel extends AbstractChannel {
  private static final ChannelMetadata METADATA = new ChannelMetadata(false);

  private final ChannelConfig config = new DefaultChannelConfig(this);
  private final SocketAddress remote;
  private volatile boolean open = true;

  /** @param remote the address of the client's first poll, for the logs */
  PollChannel(SocketAddress remote) {
    super(null);
    this.remote = remote;
  }

  @Override
  public ChannelConfig config() {
    return config;
  }

  @Override
  public boolean isOpen() {
    return open;
  }

  @Override
  public boolean isActive() {
    return open;
  }

  @Override
  public ChannelMetadata metadata() {
    return METADATA;
  }

  @Override
  protected AbstractUnsafe newUnsafe() {
    return new AbstractUnsafe() {
      @Override
      public void connect(SocketAddress remoteAddress, SocketAddress localAddress,
          ChannelPromise promise) {
        promise.setFailure(new UnsupportedOperationException("a poll channel does not connect"));
      }
    };
  }

  @Override
  protected boolean isCompatible(EventLoop loop) {
    return true; // does no I/O of its own
  }

  @Override
  protected SocketAddress localAddress0() {
    return null;
  }

  @Override
  protected SocketAddress remoteAddress0() {
    return remote;
  }

  @Override
  protected void doBind(SocketAddress localAddress) {
    throw new UnsupportedOperationException("a poll channel does not bind");
  }

  @Override
  protected void doDisconnect() {
    doClose();
  }

  @Override
  protected void doClose() {
    open = false;
  }

  @Override
  protected void doBeginRead() {
    // Frames come from polls, not from reading.
  }

  @Override
  protected void doWrite(ChannelOutboundBuffer in) {
    while (in.current() != null) {
      in.remove();
    }
  }
}
