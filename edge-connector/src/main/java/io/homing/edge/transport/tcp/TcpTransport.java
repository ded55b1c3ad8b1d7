package io.homing.edge.transport.tcp;

import com.google.protobuf.CodedOutputStream;
import io.homing.api.v1.ClientFrame;
import io.homing.api.v1.Error;
import io.homing.api.v1.ServerFrame;
import io.homing.edge.session.Connection;
import io.homing.edge.session.Frames;
import io.homing.edge.transport.ConnectionCodec;
import io.homing.edge.transport.LingeringClose;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.io.IOException;
import java.util.List;

/**
 * A raw TCP connection, in one handler: each frame is its protobuf bytes preceded by their length
 * as a varint32, both ways; the frames read go straight to the {@link Connection}. A length above the limit gets {@code Error{FRAME_TOO_LARGE}}, bytes
 * that do not decode {@code Error{MALFORMED_FRAME}}; then the connection closes.
 *
 * <p>A close waits until the client closes its side or the linger time passed ({@link
 * LingeringClose}), discarding what still arrives.
 *
 * <p>One instance per channel; runs on its event loop.
 */
final class TcpTransport extends ByteToMessageDecoder implements ConnectionCodec {
  /** A varint32 takes at most five bytes. */
  private static final int MAX_LENGTH_BYTES = 5;

  private final int maxFrameBytes;
  private final Connection connection;
  private boolean failed;
  /** The close under way, or null. */
  private LingeringClose closing;

  TcpTransport(int maxFrameBytes, Connection connection) {
    this.maxFrameBytes = maxFrameBytes;
    this.connection = connection;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    connection.start(ctx.channel());
    super.channelActive(ctx);
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (failed || closing != null) {
      in.skipBytes(in.readableBytes());
      return;
    }
    in.markReaderIndex();
    long length = readVarint(in);
    if (length == -1) {
      in.resetReaderIndex(); // the length is not all here yet
      return;
    }
    if (length < 0 || length > maxFrameBytes) {
      fail(ctx, in, Error.Code.FRAME_TOO_LARGE, (length < 0 ? "a frame length that is no varint32"
          : "a frame of " + length + " bytes") + " (limit: " + maxFrameBytes + ")");
      return;
    }
    if (in.readableBytes() < length) {
      in.resetReaderIndex();
      return;
    }
    ClientFrame frame;
    try (ByteBufInputStream stream = new ByteBufInputStream(in.readSlice((int) length))) {
      frame = ClientFrame.parseFrom(stream);
    } catch (IOException e) {
      fail(ctx, in, Error.Code.MALFORMED_FRAME, "cannot decode protobuf frame: " + e.getMessage());
      return;
    }
    connection.read(frame);
  }

  private void fail(ChannelHandlerContext ctx, ByteBuf in, Error.Code code, String reason) {
    failed = true;
    in.skipBytes(in.readableBytes());
    ctx.channel().writeAndFlush(Frames.error(code, reason)).addListener(ChannelFutureListener.CLOSE);
  }

  /**
   * The varint32 at the reader index: -1 when incomplete, -2 when longer than five bytes, else
   * the value (a negative int32 counts as too large).
   */
  private static long readVarint(ByteBuf in) {
    long value = 0;
    for (int i = 0; i < MAX_LENGTH_BYTES; i++) {
      if (!in.isReadable()) {
        return -1;
      }
      byte b = in.readByte();
      value |= (long) (b & 0x7f) << (7 * i);
      if (b >= 0) {
        return value > Integer.MAX_VALUE ? Long.MAX_VALUE : value;
      }
    }
    return -2;
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise)
      throws IOException {
    if (!(msg instanceof ServerFrame frame)) {
      ctx.write(msg, promise);
      return;
    }
    int size = frame.getSerializedSize();
    ByteBuf buf = ctx.alloc().ioBuffer(CodedOutputStream.computeUInt32SizeNoTag(size) + size);
    try (ByteBufOutputStream stream = new ByteBufOutputStream(buf)) {
      frame.writeDelimitedTo(stream);
    } catch (IOException | RuntimeException e) {
      buf.release();
      throw e;
    }
    ctx.write(buf, promise);
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
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    connection.failed(cause);
  }
}
