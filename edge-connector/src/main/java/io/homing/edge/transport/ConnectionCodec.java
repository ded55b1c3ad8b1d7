package io.homing.edge.transport;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandler;
import io.netty.channel.ChannelPromise;
import java.net.SocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The outbound half of a transport's one codec handler, which also decodes (a {@code
 * ByteToMessageDecoder}): everything but writes and closes passes through. One handler per
 * transport, rather than a decoder, an encoder and a closer, keeps idle connections lean — every
 * handler costs a connection its own context.
 */
public interface ConnectionCodec extends ChannelOutboundHandler {
  /** How long a closing connection waits for the client to close before it drops the socket. */
  long CLOSE_LINGER_MILLIS = 2000;

  /**
   * Keeps reading, so that the client's close is seen, and runs {@code finish} once the linger
   * time passed. Closing at once while the client's bytes are still arriving (an oversized frame,
   * typically) resets the connection, and a reset can make the client lose the frame that says
   * why.
   */
  static void linger(ChannelHandlerContext ctx, Runnable finish) {
    ctx.channel().config().setAutoRead(true);
    ctx.read();
    ctx.executor().schedule(finish, CLOSE_LINGER_MILLIS, TimeUnit.MILLISECONDS);
  }

  @Override
  default void bind(ChannelHandlerContext ctx, SocketAddress localAddress, ChannelPromise promise) {
    ctx.bind(localAddress, promise);
  }

  @Override
  default void connect(ChannelHandlerContext ctx, SocketAddress remoteAddress,
      SocketAddress localAddress, ChannelPromise promise) {
    ctx.connect(remoteAddress, localAddress, promise);
  }

  @Override
  default void disconnect(ChannelHandlerContext ctx, ChannelPromise promise) {
    ctx.disconnect(promise);
  }

  @Override
  default void deregister(ChannelHandlerContext ctx, ChannelPromise promise) {
    ctx.deregister(promise);
  }

  @Override
  default void read(ChannelHandlerContext ctx) {
    ctx.read();
  }

  @Override
  default void flush(ChannelHandlerContext ctx) {
    ctx.flush();
  }
}
