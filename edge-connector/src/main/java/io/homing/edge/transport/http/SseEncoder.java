package io.homing.edge.transport.http;

import io.homing.api.v1.ServerFrame;
import io.homing.edge.session.JsonFrames;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The body of a {@code text/event-stream} answer: every {@link ServerFrame} one event whose {@code
 * data:} is the frame in the JSON mapping, with {@code id: <seq>} on a push; a comment line every
 * heartbeat, so that proxies do not time the quiet stream out; and, after an Error or AuthError
 * (the session's last frame), the end of the answer. Nothing is written after the end.
 *
 * <p>One instance per channel, added once the answer's head is written; runs on its event loop.
 */
final class SseEncoder extends ChannelOutboundHandlerAdapter {
  static final String HEARTBEAT = ":\n";

  private final Duration heartbeat;
  private ScheduledFuture<?> heartbeats;
  private boolean ended;

  SseEncoder(Duration heartbeat) {
    this.heartbeat = heartbeat;
  }

  /** The event that carries {@code frame}. */
  static String event(ServerFrame frame) {
    String data = "data: " + JsonFrames.print(frame) + "\n\n";
    return frame.hasPush() ? "id: " + frame.getPush().getSeq() + "\n" + data : data;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    heartbeats = ctx.executor().scheduleAtFixedRate(() -> {
      if (!ended) {
        ctx.writeAndFlush(new DefaultHttpContent(
            ByteBufUtil.writeUtf8(ctx.alloc(), HEARTBEAT)), ctx.voidPromise());
      }
    }, heartbeat.toMillis(), heartbeat.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    heartbeats.cancel(false);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (!(msg instanceof ServerFrame frame)) {
      ctx.write(msg, promise);
      return;
    }
    if (ended) {
      if (!promise.isVoid()) {
        promise.tryFailure(new ClosedChannelException());
      }
      return;
    }
    HttpContent event = new DefaultHttpContent(ByteBufUtil.writeUtf8(ctx.alloc(), event(frame)));
    if (!frame.hasError() && !frame.hasAuthError()) {
      ctx.write(event, promise);
      return;
    }
    ended = true;
    heartbeats.cancel(false);
    ctx.write(event, ctx.voidPromise());
    ctx.write(LastHttpContent.EMPTY_LAST_CONTENT, promise);
  }
}
