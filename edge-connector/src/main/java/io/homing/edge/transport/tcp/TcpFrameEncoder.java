package io.homing.edge.transport.tcp;

import com.google.protobuf.CodedOutputStream;
import io.homing.api.v1.ServerFrame;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;
import java.io.IOException;

/** {@link ServerFrame} → its length as a varint32, then its protobuf bytes. Stateless: shared. */
@ChannelHandler.Sharable
final class TcpFrameEncoder extends MessageToByteEncoder<ServerFrame> {
  static final TcpFrameEncoder INSTANCE = new TcpFrameEncoder();

  private TcpFrameEncoder() {
    super(ServerFrame.class);
  }

  @Override
  protected ByteBuf allocateBuffer(ChannelHandlerContext ctx, ServerFrame frame, boolean direct) {
    int size = frame.getSerializedSize();
    return ctx.alloc().ioBuffer(CodedOutputStream.computeUInt32SizeNoTag(size) + size);
  }

  @Override
  protected void encode(ChannelHandlerContext ctx, ServerFrame frame, ByteBuf out)
      throws IOException {
    try (ByteBufOutputStream stream = new ByteBufOutputStream(out)) {
      frame.writeDelimitedTo(stream);
    }
  }
}
