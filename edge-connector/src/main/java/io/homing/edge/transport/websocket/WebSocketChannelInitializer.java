package io.homing.edge.transport.websocket;

import io.homing.edge.session.SessionContext;
import io.homing.edge.session.Session;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.ssl.SslContext;
import java.time.Duration;

/**
 * The pipeline of a WebSocket client connection: HTTP upgrade at {@code /ws}, WebSocket framing
 * (fragments aggregated, control frames answered, the closing handshake run by {@link
 * WebSocketCloser}), the protobuf/JSON codec and the transport-independent {@link Session}. TLS
 * first, when the node has a certificate. The handshake's HTTP handlers leave the pipeline once
 * it is done.
 */
public final class WebSocketChannelInitializer extends ChannelInitializer<SocketChannel> {
  /** The path clients upgrade at. */
  public static final String PATH = "/ws";

  private static final int MAX_HANDSHAKE_BYTES = 8192;

  /** How long a closing connection waits for the client's Close before it drops the socket. */
  private static final Duration CLOSE_LINGER = Duration.ofSeconds(2);

  private final SessionContext context;
  private final int maxFrameBytes;
  private final SslContext tls;

  /** @param tls the node's TLS context (wss:// and https://), or null for plain ws:// */
  public WebSocketChannelInitializer(SessionContext context, int maxFrameBytes, SslContext tls) {
    this.context = context;
    this.maxFrameBytes = maxFrameBytes;
    this.tls = tls;
  }

  @Override
  protected void initChannel(SocketChannel ch) {
    ChannelPipeline p = ch.pipeline();
    if (tls != null) {
      p.addLast("tls", tls.newHandler(ch.alloc()));
    }
    p.addLast("http", new HttpServerCodec());
    p.addLast("http-aggregator", new HttpObjectAggregator(MAX_HANDSHAKE_BYTES));
    p.addLast("closer", new WebSocketCloser(CLOSE_LINGER));
    p.addLast(
        "websocket",
        new WebSocketServerProtocolHandler(
            WebSocketServerProtocolConfig.newBuilder()
                .websocketPath(PATH)
                .maxFramePayloadLength(maxFrameBytes)
                .checkStartsWith(false)
                .closeOnProtocolViolation(false) // the closer does, after the closing handshake
                .sendCloseFrame(null) // the closer sends it, with the status that says why
                .build()));
    p.addLast("websocket-aggregator", new WebSocketFrameAggregator(maxFrameBytes));
    p.addLast("codec", new WebSocketFrameCodec());
    p.addLast("session", new Session(context, true));
  }
}
