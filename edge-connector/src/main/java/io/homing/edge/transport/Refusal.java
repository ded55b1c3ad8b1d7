package io.homing.edge.transport;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.TimeUnit;

/**
 * The whole pipeline, after TLS, of a connection the node does not take: it writes the answer — in
 * the port's protocol, saying which limit — ends its side, drops what the client sends and closes
 * once the client closed (the channel closes on its end of input) or {@link
 * LingeringClose#LINGER_MILLIS} passed, so that the client reads
 * the answer rather than a reset. Holds no state: one per answer for the whole node.
 */
@Sharable
public final class Refusal extends ChannelInboundHandlerAdapter {
  private final byte[] answer;

  public Refusal(byte[] answer) {
    this.answer = answer.clone();
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    ctx.writeAndFlush(Unpooled.wrappedBuffer(answer)).addListener((ChannelFutureListener) f -> {
      if (f.isSuccess() && f.channel() instanceof DuplexChannel duplex && !isTls(ctx)) {
        duplex.shutdownOutput();
      }
    });
    ctx.executor().schedule(() -> ctx.close(), LingeringClose.LINGER_MILLIS, TimeUnit.MILLISECONDS);
  }

  /** Under TLS the answer ends with the TLS close the channel's close sends. */
  private static boolean isTls(ChannelHandlerContext ctx) {
    return ctx.pipeline().get("tls") != null;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ReferenceCountUtil.release(msg);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }
}
