package io.homing.edge.transport.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.homing.api.v1.ClientFrame;
import io.homing.api.v1.Error;
import io.homing.api.v1.ServerFrame;
import io.homing.edge.transport.Connections;
import io.homing.edge.transport.RecordingConnection;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What a raw TCP client sends, in pieces of any size, through the real {@link TcpTransport}:
 * every frame it passes on is a ClientFrame that serializes back to itself; what goes wrong is
 * answered with at most one {@code Error} frame, {@code FRAME_TOO_LARGE} or {@code
 * MALFORMED_FRAME}; the connection never fails with an exception; once the server closed it and
 * its linger ran out, every buffer read is released.
 * The first byte sets the size of the pieces. See docs/fuzzing.md.
 */
class TcpTransportFuzzTest {
  private static final int MAX_FRAME_BYTES = 1024;

  @FuzzTest
  void decodesFramesOrAnswersWithOneError(byte[] input) throws IOException {
    RecordingConnection connection = new RecordingConnection();
    EmbeddedChannel channel = new EmbeddedChannel(new TcpTransport(MAX_FRAME_BYTES, connection));
    int piece = input.length == 0 ? 1 : (input[0] & 0x3f) + 1;
    List<ByteBuf> written = new ArrayList<>();
    for (int at = 1; at < input.length && channel.isOpen(); at += piece) {
      ByteBuf bytes = Unpooled.copiedBuffer(
          Arrays.copyOfRange(input, at, Math.min(input.length, at + piece)));
      written.add(bytes);
      channel.writeInbound(bytes);
    }

    Connections.end(channel);

    List<ServerFrame> answers = new ArrayList<>();
    for (ByteBuf out; (out = channel.readOutbound()) != null; ) {
      try (ByteBufInputStream in = new ByteBufInputStream(out, true)) {
        for (ServerFrame frame; (frame = ServerFrame.parseDelimitedFrom(in)) != null; ) {
          answers.add(frame);
        }
      }
    }
    channel.finishAndReleaseAll();

    assertThat(connection.closed).isTrue();
    assertThat(connection.failure).isNull();
    for (ClientFrame frame : connection.frames) {
      assertThat(ClientFrame.parseFrom(frame.toByteArray())).isEqualTo(frame);
    }
    assertThat(answers).hasSizeLessThanOrEqualTo(1);
    for (ServerFrame answer : answers) {
      assertThat(answer.getError().getCode())
          .isIn(Error.Code.FRAME_TOO_LARGE, Error.Code.MALFORMED_FRAME);
    }
    assertThat(written).allSatisfy(bytes -> assertThat(bytes.refCnt()).isZero());
  }
}
