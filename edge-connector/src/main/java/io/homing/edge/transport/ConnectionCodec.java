package io.homing.edge.transport;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandler;
import io.netty.channel.ChannelPromise;
import java.net.SocketAddress;

/**
 * The outbound half of a transport's one codec handler, which also decodes (a {@code
 * ByteToMessageDecoder}): everything but writes and closes passes through. One handler per
 * transport, rather than a decoder, an encoder and a closer, keeps idle connections lean — every
 * handler costs a connection its own context.
 */
public interface ConnectionCodec extends ChannelOutboundHandler {
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
