package io.homing.client;

import com.google.protobuf.util.JsonFormat;
import io.homing.api.v1.ClientFrame;
import io.homing.api.v1.ServerFrame;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageCodec;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.io.IOException;
import java.util.List;

/**
 * Client side of the WebSocket mapping: protobuf in binary frames, or JSON in text frames. Fires
 * {@link ClientTransport#READY} once the upgrade handshake completed.
 */
final class WebSocketClientCodec extends MessageToMessageCodec<WebSocketFrame, ClientFrame> {
  private static final JsonFormat.Printer JSON = JsonFormat.printer().omittingInsignificantWhitespace();

  private final boolean json;

  WebSocketClientCodec(boolean json) {
    this.json = json;
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
    super.userEventTriggered(ctx, event);
    if (event == WebSocketClientProtocolHandler.ClientHandshakeStateEvent.HANDSHAKE_COMPLETE) {
      ctx.fireUserEventTriggered(ClientTransport.READY);
    }
  }

  @Override
  protected void encode(ChannelHandlerContext ctx, ClientFrame frame, List<Object> out)
      throws IOException {
    out.add(
        json
            ? new TextWebSocketFrame(JSON.print(frame))
            : new BinaryWebSocketFrame(Unpooled.wrappedBuffer(frame.toByteArray())));
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, WebSocketFrame frame, List<Object> out)
      throws IOException {
    if (frame instanceof TextWebSocketFrame text) {
      ServerFrame.Builder builder = ServerFrame.newBuilder();
      JsonFormat.parser().ignoringUnknownFields().merge(text.text(), builder);
      out.add(builder.build());
    } else if (frame instanceof BinaryWebSocketFrame) {
      try (ByteBufInputStream in = new ByteBufInputStream(frame.content())) {
        out.add(ServerFrame.parseFrom(in));
      }
    }
  }
}
