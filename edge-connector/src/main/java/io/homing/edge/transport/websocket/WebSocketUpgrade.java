package io.homing.edge.transport.websocket;

import io.homing.edge.session.SessionHandler;
import io.netty.buffer.ByteBuf;
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
import io.netty.handler.codec.http.HttpServerCodec;
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
 * SessionHandler} leave — the codec once the {@code 101} response is out. Frames a client sends
 * right after its request, without waiting for the {@code 101}, are read by the transport after
 * it. A request the handshaker refuses gets {@code 400} (or {@code 426} for an unsupported
 * version) and the connection closes.
 *
 * <p>Stateless: one for the node. Releases every request it reads.
 */
@ChannelHandler.Sharable
final class WebSocketUpgrade extends ChannelInboundHandlerAdapter {
  private static final String LEFTOVERS = "websocket-leftovers";

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
    // Nothing after an upgrade request is HTTP: the HTTP decoder leaves now, and the bytes it
    // holds (frames a client sent with its request, not waiting for the 101) wait in Leftovers
    // until the transport is in place, which reads them after the 101; or are released with
    // whatever else arrives if the upgrade is refused.
    ChannelPipeline p = ctx.pipeline();
    ChannelHandlerContext http = p.context(HttpServerCodec.class);
    Leftovers leftovers = new Leftovers();
    p.addAfter(http.name(), LEFTOVERS, leftovers);
    ((HttpServerCodec) http.handler()).removeInboundHandler();
    WebSocketServerHandshaker handshaker = handshakers.newHandshaker(request);
    if (handshaker == null) {
      leftovers.discard(); // the connection closes after the answer
      WebSocketServerHandshakerFactory.sendUnsupportedVersionResponse(ctx.channel())
          .addListener(ChannelFutureListener.CLOSE);
      return;
    }
    try {
      handshaker.handshake(ctx, request).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
    } catch (WebSocketHandshakeException e) {
      leftovers.discard(); // the connection closes after the answer
      refuse(ctx, e.getMessage());
      return;
    }
    // The handshaker put its frame decoder and encoder in front of the HTTP codec, which it
    // removes once the 101 is flushed. One handler takes their place, and the session's, behind
    // the codec, where the bytes held back are passed on; the codec's encoder, done with the 101,
    // goes now, so that the codec passes everything until then.
    p.remove("wsdecoder");
    p.remove("wsencoder");
    if (!http.isRemoved()) {
      ((HttpServerCodec) http.handler()).removeOutboundHandler();
    }
    p.addAfter(LEFTOVERS, "websocket",
        new WebSocketTransport(decoder, p.get(SessionHandler.class).handOver(p)));
    p.remove(httpHandler);
    p.remove(this);
    leftovers.passOn();
  }

  /**
   * Between the HTTP codec and the transport during an upgrade: holds the bytes the HTTP decoder
   * had not read, then passes them to the transport and leaves; or releases them, and whatever
   * else arrives, when the upgrade is refused.
   */
  private static final class Leftovers extends ChannelInboundHandlerAdapter {
    private ByteBuf held;
    private ChannelHandlerContext ctx;
    private boolean discarding;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (!(msg instanceof ByteBuf bytes)) {
        ctx.fireChannelRead(msg);
      } else if (discarding) {
        bytes.release();
      } else if (held == null) {
        held = bytes;
      } else {
        held = ctx.alloc().compositeBuffer().addComponents(true, held, bytes);
      }
    }

    /** Passes what it holds to the handler after it, and leaves the pipeline. */
    void passOn() {
      ByteBuf bytes = held;
      held = null;
      if (bytes != null) {
        ctx.fireChannelRead(bytes).fireChannelReadComplete();
      }
      if (!ctx.isRemoved()) {
        ctx.pipeline().remove(this);
      }
    }

    /** Releases what it holds and what still arrives, until the connection is closed. */
    void discard() {
      discarding = true;
      release();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
      release();
    }

    private void release() {
      if (held != null) {
        held.release();
        held = null;
      }
    }
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
