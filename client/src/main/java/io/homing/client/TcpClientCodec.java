package io.homing.client;

import com.google.protobuf.CodedOutputStream;
import io.homing.api.v1.ClientFrame;
import io.homing.api.v1.ServerFrame;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageCodec;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.TooLongFrameException;
import java.io.IOException;
import java.util.List;

/**
 * Client side of the raw TCP mapping, both directions alike: each frame is its protobuf bytes
 * preceded by their length as a varint32. A server frame above the limit, or a length that is no
 * varint32, fails the connection. TCP has no handshake of its own: fires {@link
 * ClientTransport#READY} as soon as the connection is up (TLS, when there, holds the Auth frame
 * back until its own handshake is done).
 *
 * <p>One instance per channel; runs on its event loop.
 */
final class TcpClientCodec extends ByteToMessageCodec<ClientFrame> {
  /** A varint32 takes at most five bytes. */
  private static final int MAX_LENGTH_BYTES = 5;

  private final int maxFrameBytes;

  TcpClientCodec(int maxFrameBytes) {
    super(ClientFrame.class);
    this.maxFrameBytes = maxFrameBytes;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    super.channelActive(ctx);
    ctx.fireUserEventTriggered(ClientTransport.READY);
  }

  @Override
  protected void encode(ChannelHandlerContext ctx, ClientFrame frame, ByteBuf out)
      throws IOException {
    int size = frame.getSerializedSize();
    out.ensureWritable(CodedOutputStream.computeUInt32SizeNoTag(size) + size);
    try (ByteBufOutputStream stream = new ByteBufOutputStream(out)) {
      frame.writeDelimitedTo(stream);
    }
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out)
      throws IOException {
    in.markReaderIndex();
    int length = 0;
    for (int i = 0; ; i++) {
      if (i == MAX_LENGTH_BYTES) {
        throw new CorruptedFrameException("a frame length that is no varint32");
      }
      if (!in.isReadable()) {
        in.resetReaderIndex(); // the length is not all here yet
        return;
      }
      byte b = in.readByte();
      length |= (b & 0x7f) << (7 * i);
      if (b >= 0) {
        break;
      }
    }
    if (length < 0 || length > maxFrameBytes) {
      throw new TooLongFrameException(
          "a frame of " + Integer.toUnsignedString(length) + " bytes (limit: " + maxFrameBytes + ")");
    }
    if (in.readableBytes() < length) {
      in.resetReaderIndex();
      return;
    }
    try (ByteBufInputStream stream = new ByteBufInputStream(in.readSlice(length))) {
      out.add(ServerFrame.parseFrom(stream));
    }
  }
}
