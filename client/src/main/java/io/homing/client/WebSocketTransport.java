package io.homing.client;

import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import java.net.URI;

/** {@code ws://} and {@code wss://}: the HTTP upgrade, then one frame per WebSocket message. */
final class WebSocketTransport implements ClientTransport {
  private static final int MAX_HANDSHAKE_BYTES = 8192;

  private final URI uri;
  private final boolean secure;
  private final boolean json;
  private final int maxFrameBytes;

  WebSocketTransport(URI uri, boolean secure, boolean json, int maxFrameBytes) {
    this.uri = uri;
    this.secure = secure;
    this.json = json;
    this.maxFrameBytes = maxFrameBytes;
  }

  @Override
  public boolean secure() {
    return secure;
  }

  @Override
  public int port() {
    return uri.getPort() > 0 ? uri.getPort() : secure ? 443 : 80;
  }

  @Override
  public void addHandlers(ChannelPipeline pipeline) {
    pipeline
        .addLast(new HttpClientCodec())
        .addLast(new HttpObjectAggregator(MAX_HANDSHAKE_BYTES))
        .addLast(new WebSocketClientProtocolHandler(
            WebSocketClientProtocolConfig.newBuilder()
                .webSocketUri(uri)
                .maxFramePayloadLength(maxFrameBytes)
                .build()))
        .addLast(new WebSocketFrameAggregator(maxFrameBytes))
        .addLast(new WebSocketClientCodec(json));
  }
}
