package io.homing.edge.transport.websocket;

import io.homing.edge.session.SessionContext;
import io.homing.edge.session.Session;
import io.homing.edge.transport.http.HttpFallback;
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
import java.util.List;

/**
 * The pipeline of a WebSocket client connection: HTTP upgrade at {@code /ws}, WebSocket framing
 * (fragments aggregated, control frames answered, the closing handshake run by {@link
 * WebSocketCloser}), the protobuf/JSON codec and the transport-independent {@link Session}. TLS
 * first, when the node has a certificate. The handshake's HTTP handlers leave the pipeline once
 * it is done. A connection whose first request is not the upgrade speaks plain HTTP instead: the
 * {@link HttpFallback} takes the WebSocket handlers out and answers it.
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
  /** Immutable: one for every connection of the node. */
  private final WebSocketServerProtocolConfig websocket;
  private final HttpFallback http;

  /**
   * @param tls the node's TLS context (wss:// and https://), or null for plain ws://
   * @param corsOrigins the origins browsers may call the HTTP fallback from, see {@link
   *     HttpFallback}
   */
  public WebSocketChannelInitializer(SessionContext context, int maxFrameBytes, SslContext tls,
      List<String> corsOrigins) {
    this.context = context;
    this.maxFrameBytes = maxFrameBytes;
    this.tls = tls;
    this.http = new HttpFallback(context, corsOrigins);
    this.websocket =
        WebSocketServerProtocolConfig.newBuilder()
            .websocketPath(PATH)
            .maxFramePayloadLength(maxFrameBytes)
            .checkStartsWith(false)
            .closeOnProtocolViolation(false) // the closer does, after the closing handshake
            .sendCloseFrame(null) // the closer sends it, with the status that says why
            .build();
  }

  @Override
  protected void initChannel(SocketChannel ch) {
    ChannelPipeline p = ch.pipeline();
    if (tls != null) {
      p.addLast("tls", tls.newHandler(ch.alloc()));
    }
    p.addLast("http", new HttpServerCodec());
    p.addLast("http-aggregator", new HttpObjectAggregator(MAX_HANDSHAKE_BYTES));
    p.addLast("http-fallback", http.newHandler(PATH));
    p.addLast("closer", new WebSocketCloser(CLOSE_LINGER));
    p.addLast("websocket", new WebSocketServerProtocolHandler(websocket));
    p.addLast("websocket-aggregator", new WebSocketFrameAggregator(maxFrameBytes));
    p.addLast("codec", new WebSocketFrameCodec());
    p.addLast("session", new Session(context, true));
  }
}
