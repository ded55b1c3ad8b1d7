package io.homing.edge.transport.websocket;

import io.homing.edge.session.SessionHandler;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketHandshakeException;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import java.nio.charset.StandardCharsets;

/**
 * Runs the opening handshake of a WebSocket upgrade request (RFC 6455 §4.2, with Netty's
 * handshaker) and leaves the connection's pipeline as lean as it can be: the TLS handler if any and
 * one {@link WebSocketTransport}, which calls the session itself. The HTTP handlers and the {@link
 * SessionHandler} leave — the codec once the {@code 101} response is out. A request the handshaker refuses gets {@code 400} (or {@code 426} for an
 * unsupported version) and the connection closes.
 *
 * <p>Stateless: one for the node. Releases every request it reads.
 */
@ChannelHandler.Sharable
final class WebSocketUpgrade extends ChannelInboundHandlerAdapter {
  private final WebSocketDecoderConfig decoder;
  private final WebSocketServerHandshakerFactory handshakers;
  private final String httpHandler;

  /**
   * @param httpHandler the name of the handler before this one that answers plain HTTP requests,
   *     which leaves with the upgrade
   */
  WebSocketUpgrade(String path, WebSocketDecoderConfig decoder, String httpHandler) {
    this.decoder = decoder;
    this.handshakers = new WebSocketServerHandshakerFactory(path, null, decoder);
    this.httpHandler = httpHandler;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof FullHttpRequest request)) {
      ctx.fireChannelRead(msg);
      return;
    }
    try {
      upgrade(ctx, request);
    } finally {
      request.release();
    }
  }

  private void upgrade(ChannelHandlerContext ctx, FullHttpRequest request) {
    WebSocketServerHandshaker handshaker = handshakers.newHandshaker(request);
    if (handshaker == null) {
      WebSocketServerHandshakerFactory.sendUnsupportedVersionResponse(ctx.channel())
          .addListener(ChannelFutureListener.CLOSE);
      return;
    }
    try {
      handshaker.handshake(ctx, request).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
    } catch (WebSocketHandshakeException e) {
      refuse(ctx, e.getMessage());
      return;
    }
    // The handshaker put its frame decoder and encoder in front of the HTTP codec: one handler
    // takes their place, and the session's.
    ChannelPipeline p = ctx.pipeline();
    p.replace("wsdecoder", "websocket",
        new WebSocketTransport(decoder, p.get(SessionHandler.class).handOver(p)));
    p.remove("wsencoder");
    p.remove(httpHandler);
    p.remove(this);
  }

  private static void refuse(ChannelHandlerContext ctx, String reason) {
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
        HttpResponseStatus.BAD_REQUEST,
        Unpooled.copiedBuffer(reason + "\n", StandardCharsets.UTF_8));
    response.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN)
        .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    HttpUtil.setContentLength(response, response.content().readableBytes());
    ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
  }
}
