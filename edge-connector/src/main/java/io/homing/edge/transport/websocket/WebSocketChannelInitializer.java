package io.homing.edge.transport.websocket;

import io.homing.edge.session.SessionContext;
import io.homing.edge.session.SessionHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.timeout.IdleStateHandler;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The pipeline of a WebSocket client connection: HTTP upgrade at {@code /ws}, WebSocket framing
 * (fragments aggregated, control frames answered, the closing handshake run by {@link
 * WebSocketCloser}), the protobuf/JSON codec, idle detection and the transport-independent {@link
 * SessionHandler}.
 */
public final class WebSocketChannelInitializer extends ChannelInitializer<SocketChannel> {
  /** The path clients upgrade at. */
  public static final String PATH = "/ws";

  private static final int MAX_HANDSHAKE_BYTES = 8192;

  /** How long a closing connection waits for the client's Close before it drops the socket. */
  private static final Duration CLOSE_LINGER = Duration.ofSeconds(2);

  private final SessionContext context;
  private final int maxFrameBytes;

  public WebSocketChannelInitializer(SessionContext context, int maxFrameBytes) {
    this.context = context;
    this.maxFrameBytes = maxFrameBytes;
  }

  @Override
  protected void initChannel(SocketChannel ch) {
    ChannelPipeline p = ch.pipeline();
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
                .build()));
    p.addLast("websocket-aggregator", new WebSocketFrameAggregator(maxFrameBytes));
    p.addLast("codec", new WebSocketFrameCodec());
    p.addLast(
        "idle",
        new IdleStateHandler(context.idleTimeout().toMillis(), 0, 0, TimeUnit.MILLISECONDS));
    p.addLast("session", new SessionHandler(context));
  }
}
