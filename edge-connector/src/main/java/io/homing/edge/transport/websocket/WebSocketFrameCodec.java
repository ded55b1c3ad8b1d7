package io.homing.edge.transport.websocket;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.homing.api.v1.ClientFrame;
import io.homing.api.v1.Error;
import io.homing.api.v1.ServerFrame;
import io.homing.edge.session.Frames;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageCodec;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.io.IOException;
import java.util.List;

/**
 * WebSocket data frames ↔ protocol frames. A binary frame carries a frame as protobuf bytes, a text
 * frame the same frame in protobuf's JSON mapping; the server answers in the form of the client's
 * first frame. A frame that does not decode gets an Error and the connection is closed; an Error or
 * AuthError frame sets the status of the Close frame that follows it ({@link CloseCodes}).
 *
 * <p>One instance per channel; runs on its event loop. Releases every inbound frame (the base
 * class does); outbound buffers are released by the transport after the write.
 */
final class WebSocketFrameCodec extends MessageToMessageCodec<WebSocketFrame, ServerFrame> {
  /** Unknown fields are skipped, as in binary frames, so newer clients can talk to older edges. */
  private static final JsonFormat.Parser JSON_PARSER = JsonFormat.parser().ignoringUnknownFields();
  private static final JsonFormat.Printer JSON_PRINTER =
      JsonFormat.printer().omittingInsignificantWhitespace();

  private Boolean text;

  @Override
  protected void decode(ChannelHandlerContext ctx, WebSocketFrame frame, List<Object> out) {
    boolean isText = frame instanceof TextWebSocketFrame;
    if (!isText && !(frame instanceof BinaryWebSocketFrame)) {
      // Ping, pong and close are handled by WebSocketServerProtocolHandler before this codec.
      return;
    }
    if (text == null) {
      text = isText;
    }
    try {
      out.add(isText ? parseJson(((TextWebSocketFrame) frame).text()) : parse(frame.content()));
    } catch (IOException e) {
      // From the tail, so that the frame passes through this codec's encoder.
      String reason = "cannot decode " + (isText ? "JSON" : "protobuf") + " frame: " + e.getMessage();
      ctx.channel()
          .writeAndFlush(Frames.error(Error.Code.MALFORMED_FRAME, reason))
          .addListener(ChannelFutureListener.CLOSE);
    }
  }

  @Override
  protected void encode(ChannelHandlerContext ctx, ServerFrame frame, List<Object> out)
      throws IOException {
    WebSocketCloseStatus status = CloseCodes.of(frame);
    if (status != null) {
      WebSocketCloser closer = ctx.pipeline().get(WebSocketCloser.class);
      if (closer != null) {
        closer.closeWith(status);
      }
    }
    if (Boolean.TRUE.equals(text)) {
      out.add(new TextWebSocketFrame(JSON_PRINTER.print(frame)));
      return;
    }
    ByteBuf buf = ctx.alloc().buffer(frame.getSerializedSize());
    try (ByteBufOutputStream stream = new ByteBufOutputStream(buf)) {
      frame.writeTo(stream);
    } catch (IOException | RuntimeException e) {
      buf.release();
      throw e;
    }
    out.add(new BinaryWebSocketFrame(buf));
  }

  /** A message whose fragments add up to more than the frame limit closes with 1009. */
  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof TooLongFrameException) {
      ctx.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.MESSAGE_TOO_BIG,
          WebSocketCloseStatus.MESSAGE_TOO_BIG.reasonText()));
      ctx.channel().close();
      return;
    }
    ctx.fireExceptionCaught(cause);
  }

  private static ClientFrame parse(ByteBuf content) throws IOException {
    try (ByteBufInputStream in = new ByteBufInputStream(content)) {
      return ClientFrame.parseFrom(in);
    }
  }

  private static ClientFrame parseJson(String json) throws InvalidProtocolBufferException {
    ClientFrame.Builder builder = ClientFrame.newBuilder();
    JSON_PARSER.merge(json, builder);
    return builder.build();
  }
}
