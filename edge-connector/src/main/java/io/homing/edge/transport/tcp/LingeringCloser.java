package io.homing.edge.transport.tcp;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.PromiseNotifier;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Closes a TCP connection only once the client had time to read the last frame: a close waits
 * until the client closes its side or the linger time passed, discarding what still arrives.
 * Closing at once while the client's bytes are still arriving (an oversized frame, typically)
 * resets the connection, and a reset can make the client lose the Error frame that says why.
 *
 * <p>Sits right after the transport's first handlers (TLS), so it sees every close. One instance
 * per channel.
 */
final class LingeringCloser extends ChannelDuplexHandler {
  private final Duration linger;
  private ChannelPromise closing;
  private boolean closed;

  LingeringCloser(Duration linger) {
    this.linger = linger;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (closing != null) {
      ReferenceCountUtil.release(msg);
      return;
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
    if (closing != null) {
      closing.addListener(new PromiseNotifier<>(promise.unvoid()));
      return;
    }
    if (!ctx.channel().isActive()) {
      ctx.close(promise);
      return;
    }
    closing = promise.unvoid();
    ctx.channel().config().setAutoRead(true);
    ctx.read();
    ctx.executor().schedule(() -> finish(ctx), linger.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (closing != null) {
      finish(ctx);
    }
    ctx.fireChannelInactive();
  }

  private void finish(ChannelHandlerContext ctx) {
    if (closed) {
      return;
    }
    closed = true;
    ctx.close(closing);
  }
}
