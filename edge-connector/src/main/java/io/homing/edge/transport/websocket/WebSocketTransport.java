package io.homing.edge.transport.websocket;

import io.homing.api.v1.ClientFrame;
import io.homing.api.v1.Error;
import io.homing.api.v1.ServerFrame;
import io.homing.edge.session.Connection;
import io.homing.edge.session.Frames;
import io.homing.edge.session.JsonFrames;
import io.homing.edge.transport.ConnectionCodec;
import io.homing.edge.transport.LingeringClose;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A WebSocket connection after the upgrade, in one handler: RFC 6455 frames (Netty's decoder and
 * encoder) ↔ protocol frames, control frames and the closing handshake. Every handler costs an
 * idle connection its context and its own fields, so this one does what would otherwise take a
 * frame decoder, encoder, protocol handler, UTF-8 validator, fragment aggregator, codec and closer;
 * and it hands the frames it reads straight to the connection's {@link Connection}.
 *
 * <ul>
 *   <li>A binary message carries a frame as protobuf bytes, a text message the same frame in
 *       protobuf's JSON mapping; the server answers in the form of the client's first message.
 *       Fragments are joined up to the frame limit (beyond it: 1009). A message that does not
 *       decode gets {@code Error{MALFORMED_FRAME}}; text that is not UTF-8 closes with 1007.
 *   <li>Pings are answered with pongs; pongs are dropped.
 *   <li>Every close sends exactly one Close frame, as RFC 6455 (§1.4, §7.1.1) asks of a server:
 *       the status the session's last Error or AuthError frame asked for ({@link CloseCodes}), the
 *       status of the client's protocol violation, or 1000. The TCP connection goes down only when
 *       the client answered with its own Close, closed its side, or let the linger time pass;
 *       nothing is written after the Close frame, and what still arrives is discarded. Closing
 *       straight after the Close frame would reset the connection whenever the client's bytes are
 *       still arriving, and the client would see an aborted connection instead of why.
 * </ul>
 *
 * <p>One instance per channel; runs on its event loop. Releases every frame it reads.
 */
final class WebSocketTransport extends WebSocket13FrameDecoder implements ConnectionCodec {
  /** Stateless (server frames are not masked): one for the node. */
  private static final FrameEncoder ENCODER = new FrameEncoder();

  private static final byte UNKNOWN = 0;
  private static final byte BINARY = 1;
  private static final byte TEXT = 2;

  private final int maxMessageBytes;
  private final Connection connection;
  /** The form of the client's first message, which the server answers in. */
  private byte mapping = UNKNOWN;
  private boolean fragmentsText;
  private boolean closeSent;
  private boolean closeReceived;
  /** A message's fragments so far, or null. */
  private CompositeByteBuf fragments;
  /** The close under way, or null. */
  private LingeringClose closing;
  /** The status the next close sends, set by the last Error or AuthError frame; null: 1000. */
  private WebSocketCloseStatus status;

  /**
   * @param config the node's decoder settings, shared
   * @param connection started already: the transport comes after the upgrade
   */
  WebSocketTransport(WebSocketDecoderConfig config, Connection connection) {
    super(config);
    this.maxMessageBytes = config.maxFramePayloadLength();
    this.connection = connection;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
    int before = out.size();
    super.decode(ctx, in, out);
    for (int added = out.size() - before; added > 0; added--) {
      ClientFrame frame = read(ctx, (WebSocketFrame) out.remove(before));
      if (frame != null) {
        connection.read(frame);
      }
    }
  }

  /** The client frame the WebSocket frame completes, or null; releases the WebSocket frame. */
  private ClientFrame read(ChannelHandlerContext ctx, WebSocketFrame frame) {
    try {
      if (frame instanceof CloseWebSocketFrame close) {
        onClose(ctx, close);
        return null;
      }
      if (closing != null || closeSent) {
        return null; // closing: the client's last words are discarded
      }
      if (frame instanceof PingWebSocketFrame) {
        writeFrame(ctx, new PongWebSocketFrame(frame.content().retain()), ctx.voidPromise());
        ctx.flush();
        return null;
      }
      if (frame instanceof PongWebSocketFrame) {
        return null;
      }
      if (frame instanceof ContinuationWebSocketFrame) {
        return fragment(ctx, frame);
      }
      boolean text = frame instanceof TextWebSocketFrame;
      if (!frame.isFinalFragment()) {
        fragments = ctx.alloc().compositeBuffer();
        fragmentsText = text;
        return fragment(ctx, frame);
      }
      return decode(ctx, frame.content(), text);
    } finally {
      frame.release();
    }
  }

  /** Adds a fragment; the client frame once it was the last one, else null. */
  private ClientFrame fragment(ChannelHandlerContext ctx, WebSocketFrame frame) {
    // The frame decoder lets no continuation through outside a fragmented message.
    if (fragments.readableBytes() + frame.content().readableBytes() > maxMessageBytes) {
      releaseFragments();
      failWith(ctx, WebSocketCloseStatus.MESSAGE_TOO_BIG, "the message's fragments exceed "
          + maxMessageBytes + " bytes");
      return null;
    }
    fragments.addComponent(true, frame.content().retain());
    if (!frame.isFinalFragment()) {
      return null;
    }
    try {
      return decode(ctx, fragments, fragmentsText);
    } finally {
      releaseFragments();
    }
  }

  private ClientFrame decode(ChannelHandlerContext ctx, ByteBuf content, boolean text) {
    if (mapping == UNKNOWN) {
      mapping = text ? TEXT : BINARY;
    }
    String json;
    try {
      json = text ? StandardCharsets.UTF_8.newDecoder().decode(content.nioBuffer()).toString()
          : null;
    } catch (CharacterCodingException e) {
      failWith(ctx, WebSocketCloseStatus.INVALID_PAYLOAD_DATA, "a text message that is not UTF-8");
      return null;
    }
    try {
      if (text) {
        return JsonFrames.parseClientFrame(json);
      }
      try (ByteBufInputStream stream = new ByteBufInputStream(content)) {
        return ClientFrame.parseFrom(stream);
      }
    } catch (IOException e) {
      String reason = "cannot decode " + (text ? "JSON" : "protobuf") + " frame: " + e.getMessage();
      ctx.channel()
          .writeAndFlush(Frames.error(Error.Code.MALFORMED_FRAME, reason))
          .addListener(ChannelFutureListener.CLOSE);
      return null;
    }
  }

  private void onClose(ChannelHandlerContext ctx, CloseWebSocketFrame close) {
    closeReceived = true;
    if (closing != null) {
      closing.finish();
      return;
    }
    int code = close.statusCode(); // -1: no status
    if (code != -1 && !CloseCodes.isValidFromPeer(code)) {
      // RFC 6455 §7.4: an invalid status is a protocol error, not something to echo.
      failWith(ctx, WebSocketCloseStatus.PROTOCOL_ERROR, "invalid close status " + code);
      return;
    }
    if (!closeSent) {
      // The client started the closing handshake: answer with its own status.
      writeFrame(ctx, new CloseWebSocketFrame(true, 0, close.content().retain()), ctx.voidPromise());
    }
    ctx.channel().close();
  }

  /** Closes with a protocol-level status, the client having broken RFC 6455 or the limits. */
  private void failWith(ChannelHandlerContext ctx, WebSocketCloseStatus violation, String reason) {
    if (!closeSent) {
      writeFrame(ctx, new CloseWebSocketFrame(violation, CloseCodes.truncate(reason)),
          ctx.voidPromise());
    }
    ctx.channel().close();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof CorruptedWebSocketFrameException violation) {
      String message = violation.getMessage();
      failWith(ctx, violation.closeStatus(),
          message != null ? message : violation.closeStatus().reasonText());
      return;
    }
    connection.failed(cause);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
    if (!(msg instanceof ServerFrame frame)) {
      ctx.write(msg, promise); // the upgrade's HTTP response, on its way out
      return;
    }
    WebSocketCloseStatus ending = CloseCodes.of(frame);
    if (ending != null && !closeSent) {
      status = ending;
    }
    writeFrame(ctx, mapping == TEXT ? new TextWebSocketFrame(JsonFrames.print(frame))
        : new BinaryWebSocketFrame(serialize(ctx, frame)), promise);
  }

  private static ByteBuf serialize(ChannelHandlerContext ctx, ServerFrame frame)
      throws IOException {
    ByteBuf buf = ctx.alloc().buffer(frame.getSerializedSize());
    try (ByteBufOutputStream stream = new ByteBufOutputStream(buf)) {
      frame.writeTo(stream);
    } catch (IOException | RuntimeException e) {
      buf.release();
      throw e;
    }
    return buf;
  }

  /** Encodes and writes the frame, unless the Close frame went out already; releases it. */
  private void writeFrame(ChannelHandlerContext ctx, WebSocketFrame frame, ChannelPromise promise) {
    if (closeSent) {
      frame.release();
      promise.tryFailure(new ClosedChannelException());
      return;
    }
    boolean isClose = frame instanceof CloseWebSocketFrame;
    if (isClose) {
      closeSent = true;
    }
    List<Object> out = new ArrayList<>(2);
    try {
      ENCODER.encode(ctx, frame, out);
    } catch (Exception e) {
      out.forEach(ReferenceCountUtil::release);
      promise.tryFailure(e);
      return;
    } finally {
      frame.release();
    }
    for (int i = 0; i < out.size() - 1; i++) {
      ctx.write(out.get(i), ctx.voidPromise());
    }
    ctx.write(out.get(out.size() - 1), promise);
    if (isClose) {
      ctx.flush();
    }
  }

  @Override
  public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
    if (closing != null) {
      closing.join(promise);
      return;
    }
    if (!ctx.channel().isActive()) {
      ctx.close(promise);
      return;
    }
    closing = new LingeringClose(ctx, promise);
    if (!closeSent) {
      WebSocketCloseStatus why = status != null ? status : WebSocketCloseStatus.NORMAL_CLOSURE;
      writeFrame(ctx, new CloseWebSocketFrame(why.code(), why.reasonText()), ctx.voidPromise());
    }
    if (closeReceived) {
      closing.finish();
      return;
    }
    closing.linger();
  }

  /**
   * Reads on only as the session lets it: Netty's decoder asks for another read when it passed no
   * message up the pipeline and auto-read is off, which would undo the session's backpressure
   * (it turns auto-read off while too many publishes wait for Kafka). This one passes none.
   */
  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    discardSomeReadBytes();
    ctx.fireChannelReadComplete();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    if (closing != null) {
      closing.finish();
    }
    try {
      super.channelInactive(ctx); // a frame completed by the connection's end reaches the session
    } finally {
      connection.closed();
    }
  }

  @Override
  protected void handlerRemoved0(ChannelHandlerContext ctx) {
    releaseFragments();
  }

  private void releaseFragments() {
    if (fragments != null) {
      fragments.release();
      fragments = null;
    }
  }

  /** Netty's frame encoder, called directly rather than from a handler of its own. */
  private static final class FrameEncoder extends WebSocket13FrameEncoder {
    FrameEncoder() {
      super(false);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, WebSocketFrame msg, List<Object> out)
        throws Exception {
      super.encode(ctx, msg, out);
    }
  }
}
