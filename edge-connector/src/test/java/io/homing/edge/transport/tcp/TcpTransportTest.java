package io.homing.edge.transport.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import io.homing.api.v1.Ack;
import io.homing.api.v1.ClientFrame;
import io.homing.api.v1.Error;
import io.homing.api.v1.Pong;
import io.homing.api.v1.ServerFrame;
import io.homing.edge.transport.LingeringClose;
import io.homing.edge.transport.RecordingConnection;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class TcpTransportTest {
  private static final long LINGER_MILLIS = LingeringClose.LINGER_MILLIS;
  private final RecordingConnection connection = new RecordingConnection();
  private final EmbeddedChannel channel = new EmbeddedChannel(new TcpTransport(1024, connection));

  @Test
  void decodesLengthDelimitedFramesSplitAnywhere() throws IOException {
    ByteArrayOutputStream wire = new ByteArrayOutputStream();
    for (int seq = 1; seq <= 3; seq++) {
      ack(seq).writeDelimitedTo(wire);
    }
    byte[] bytes = wire.toByteArray();

    for (byte b : bytes) { // one byte at a time: lengths and frames arrive in pieces
      channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
    }

    assertThat(connection.frames.poll()).isEqualTo(ack(1));
    assertThat(connection.frames.poll()).isEqualTo(ack(2));
    assertThat(connection.frames.poll()).isEqualTo(ack(3));
    assertThat(connection.frames).isEmpty();
  }

  @Test
  void encodesServerFramesLengthDelimited() throws IOException {
    ServerFrame pong = ServerFrame.newBuilder().setPong(Pong.newBuilder().setNonce(9)).build();

    channel.writeOutbound(pong);

    ByteBuf out = channel.readOutbound();
    try (ByteBufInputStream in = new ByteBufInputStream(out, true)) {
      assertThat(ServerFrame.parseDelimitedFrom(in)).isEqualTo(pong);
      assertThat(in.available()).isZero();
    }
  }

  @Test
  void refusesAFrameOverTheLimitWithFrameTooLargeAndDiscardsTheRest() throws IOException {
    ByteBuf big = Unpooled.buffer();
    big.writeByte(0x81).writeByte(0x08); // varint32 1025
    big.writeZero(100);

    channel.writeInbound(big);
    channel.writeInbound(Unpooled.wrappedBuffer(new byte[50]));

    assertThat(connection.frames).isEmpty();
    assertThat(error().getCode()).isEqualTo(Error.Code.FRAME_TOO_LARGE);
    assertThat(big.refCnt()).isZero();
    assertClosesAfterTheLinger();
  }

  @Test
  void refusesALengthLongerThanAVarint32() throws IOException {
    channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {-1, -1, -1, -1, -1, 1}));

    assertThat(error().getCode()).isEqualTo(Error.Code.FRAME_TOO_LARGE);
    assertClosesAfterTheLinger();
  }

  @Test
  void refusesBytesThatAreNoProtobufFrameWithMalformedFrame() throws IOException {
    channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {3, (byte) 0xFF, (byte) 0xFF, 1}));

    Error error = error();
    assertThat(error.getCode()).isEqualTo(Error.Code.MALFORMED_FRAME);
    assertThat(error.getMessage()).startsWith("cannot decode protobuf frame");
    assertClosesAfterTheLinger();
  }

  @Test
  void aClosingConnectionClosesAsSoonAsTheClientDoes() {
    channel.close();
    assertThat(channel.isOpen()).isTrue(); // waiting for the client
    assertThat(connection.closed).isFalse();

    channel.pipeline().fireChannelInactive();

    assertThat(channel.closeFuture().isDone()).isTrue();
    assertThat(connection.closed).isTrue();
  }

  @Test
  void readsNoMoreWhileTheSessionHasAutoReadOff() throws IOException {
    ReadCounter reads = new ReadCounter();
    EmbeddedChannel paused = new EmbeddedChannel(reads, new TcpTransport(1024, connection));
    paused.config().setAutoRead(false); // as the session does with too many publishes in flight
    reads.count = 0;
    ByteArrayOutputStream wire = new ByteArrayOutputStream();
    ack(1).writeDelimitedTo(wire);

    paused.writeInbound(Unpooled.wrappedBuffer(wire.toByteArray()));

    assertThat(connection.frames).containsExactly(ack(1));
    assertThat(reads.count).isZero();
    paused.finishAndReleaseAll();
  }

  @Test
  void startsTheConnectionOnceActiveAndHandsItWhatFails() {
    assertThat(connection.started).isSameAs(channel);

    IllegalStateException failure = new IllegalStateException("boom");
    channel.pipeline().fireExceptionCaught(failure);

    assertThat(connection.failure).isSameAs(failure);
  }

  @Test
  void aClosingConnectionClosesOnceTheLingerTimePassed() {
    channel.freezeTime();
    channel.pipeline().close(); // EmbeddedChannel.close() would cancel the scheduled linger

    channel.advanceTimeBy(LINGER_MILLIS - 1, TimeUnit.MILLISECONDS);
    channel.runScheduledPendingTasks();
    assertThat(channel.isOpen()).isTrue();
    channel.advanceTimeBy(2, TimeUnit.MILLISECONDS);
    channel.runScheduledPendingTasks();
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void releasesALengthCutShortOnceTheLingerRanOut() {
    // The input of TcpTransportFuzzTest's seed length-cut-short-at-close: three bytes of a
    // varint32 stay buffered while the connection lingers, and not after it.
    ByteBuf cutShort = Unpooled.wrappedBuffer(new byte[] {-1, -1, -1});
    channel.writeInbound(cutShort);
    channel.freezeTime();
    channel.pipeline().close(); // EmbeddedChannel.close() would cancel the scheduled linger
    assertThat(cutShort.refCnt()).isOne();

    channel.advanceTimeBy(LINGER_MILLIS + 1, TimeUnit.MILLISECONDS);
    channel.runScheduledPendingTasks();
    channel.runPendingTasks();

    assertThat(channel.isOpen()).isFalse();
    assertThat(cutShort.refCnt()).isZero();
    assertThat(connection.frames).isEmpty();
  }

  /** Open while the client may still read the Error, discarding; closed once the client is. */
  private void assertClosesAfterTheLinger() {
    channel.runPendingTasks();
    assertThat(channel.isOpen()).isTrue();
    channel.writeInbound(Unpooled.wrappedBuffer(new byte[10])); // discarded
    assertThat(connection.frames).isEmpty();
    channel.pipeline().fireChannelInactive();
    assertThat(channel.closeFuture().isDone()).isTrue();
  }

  private Error error() throws IOException {
    ByteBuf out = channel.readOutbound();
    try (ByteBufInputStream in = new ByteBufInputStream(out, true)) {
      return ServerFrame.parseDelimitedFrom(in).getError();
    }
  }

  private static ClientFrame ack(long seq) {
    return ClientFrame.newBuilder().setAck(Ack.newBuilder().setSeq(seq)).build();
  }

  /** Counts the reads asked of the channel. */
  private static final class ReadCounter extends ChannelOutboundHandlerAdapter {
    int count;

    @Override
    public void read(ChannelHandlerContext ctx) {
      count++;
      ctx.read();
    }
  }
}
