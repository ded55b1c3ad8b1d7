package io.homing.edge.transport.websocket;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrameEncoder;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.PromiseNotifier;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Runs the WebSocket closing handshake the way RFC 6455 (§1.4, §7.1.1) asks of a server: every
 * close sends exactly one Close frame — the status the session's last frame asked for ({@link
 * CloseCodes}), the status of the client's protocol violation, such as 1009 for an oversized
 * frame, or 1000 — and the TCP connection goes down only when the client
 * answered with its own Close, closed its side, or let the linger time pass. Nothing is written
 * after the Close frame.
 *
 * <p>Closing straight after writing the Close frame, as Netty does on a protocol violation, resets
 * the connection whenever the client's bytes are still arriving (an oversized frame, typically):
 * the client then sees an aborted connection instead of the status that says why. Until the
 * connection is down the decoder keeps reading and discards what it reads.
 *
 * <p>Sits between the WebSocket frame decoder and {@code WebSocketServerProtocolHandler}, so it
 * sees the decoder's errors first and every outbound frame last. One instance per channel.
 */
final class WebSocketCloser extends ChannelDuplexHandler {
  private final Duration linger;
  private boolean closeSent;
  private boolean closeReceived;
  private ChannelPromise closing;
  private Future<?> lingerTimeout;
  private boolean closed;
  private WebSocketCloseStatus status = WebSocketCloseStatus.NORMAL_CLOSURE;

  WebSocketCloser(Duration linger) {
    this.linger = linger;
  }

  /** The status the next close sends: why the session ends. */
  void closeWith(WebSocketCloseStatus status) {
    this.status = status;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof CloseWebSocketFrame) {
      closeReceived = true;
      if (closing != null) {
        ReferenceCountUtil.release(msg);
        finish(ctx);
        return;
      }
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof CorruptedWebSocketFrameException violation) {
      write(ctx, new CloseWebSocketFrame(violation.closeStatus(), reason(violation)), ctx.voidPromise());
      close(ctx, ctx.newPromise());
      return;
    }
    ctx.fireExceptionCaught(cause);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (closeSent && msg instanceof WebSocketFrame) {
      ReferenceCountUtil.release(msg);
      promise.tryFailure(new ClosedChannelException());
      return;
    }
    if (msg instanceof CloseWebSocketFrame) {
      closeSent = true;
      ctx.writeAndFlush(msg, promise);
      return;
    }
    ctx.write(msg, promise);
  }

  @Override
  public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
    if (closing != null) {
      closing.addListener(new PromiseNotifier<>(promise.unvoid()));
      return;
    }
    if (!ctx.channel().isActive() || ctx.pipeline().get(WebSocketFrameEncoder.class) == null) {
      ctx.close(promise); // gone already, or still speaking HTTP
      return;
    }
    closing = promise.unvoid();
    if (!closeSent) {
      write(ctx, new CloseWebSocketFrame(status.code(), status.reasonText()), ctx.voidPromise());
    }
    if (closeReceived) {
      finish(ctx);
      return;
    }
    ctx.channel().config().setAutoRead(true);
    ctx.read();
    lingerTimeout = ctx.executor().schedule(() -> finish(ctx), linger.toMillis(),
        TimeUnit.MILLISECONDS);
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
    if (lingerTimeout != null) {
      lingerTimeout.cancel(false);
    }
    ctx.close(closing);
  }

  /** The violation's message, cut to the 123 bytes a Close frame has for a reason. */
  private static String reason(CorruptedWebSocketFrameException violation) {
    String message = violation.getMessage();
    return message != null ? CloseCodes.truncate(message) : violation.closeStatus().reasonText();
  }
}
