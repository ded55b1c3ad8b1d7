package io.homing.edge.transport.websocket;

import static org.assertj.core.api.Assertions.assertThat;

import io.homing.api.v1.Ack;
import io.homing.api.v1.ClientFrame;
import io.homing.api.v1.Error;
import io.homing.api.v1.Pong;
import io.homing.api.v1.ServerFrame;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class WebSocketFrameCodecTest {
  private final EmbeddedChannel channel = new EmbeddedChannel(new WebSocketFrameCodec());

  @Test
  void decodesProtobufFromBinaryFramesAndAnswersInBinary() throws IOException {
    ClientFrame ack = ClientFrame.newBuilder().setAck(Ack.newBuilder().setSeq(7)).build();

    channel.writeInbound(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(ack.toByteArray())));
    channel.writeOutbound(pong(3));

    assertThat((ClientFrame) channel.readInbound()).isEqualTo(ack);
    BinaryWebSocketFrame out = channel.readOutbound();
    try (ByteBufInputStream in = new ByteBufInputStream(out.content(), true)) {
      assertThat(ServerFrame.parseFrom(in)).isEqualTo(pong(3));
    }
  }

  @Test
  void decodesJsonFromTextFramesAndAnswersInJson() {
    channel.writeInbound(new TextWebSocketFrame("{\"ack\":{\"seq\":\"7\"}}"));
    channel.writeOutbound(pong(3));

    assertThat((ClientFrame) channel.readInbound())
        .isEqualTo(ClientFrame.newBuilder().setAck(Ack.newBuilder().setSeq(7)).build());
    TextWebSocketFrame out = channel.readOutbound();
    assertThat(out.text()).isEqualTo("{\"pong\":{\"nonce\":\"3\"}}");
    out.release();
  }

  @Test
  void answersAMalformedBinaryFrameWithAnErrorAndCloses() throws IOException {
    ByteBuf garbage = Unpooled.wrappedBuffer(new byte[] {(byte) 0xFF, (byte) 0xFF, 0x01});

    channel.writeInbound(new BinaryWebSocketFrame(garbage));

    Object decoded = channel.readInbound();
    assertThat(decoded).isNull();
    BinaryWebSocketFrame out = channel.readOutbound();
    try (ByteBufInputStream in = new ByteBufInputStream(out.content(), true)) {
      Error error = ServerFrame.parseFrom(in).getError();
      assertThat(error.getCode()).isEqualTo(Error.Code.MALFORMED_FRAME);
      assertThat(error.getMessage()).startsWith("cannot decode protobuf frame");
    }
    assertThat(channel.isOpen()).isFalse();
    assertThat(garbage.refCnt()).isZero();
  }

  @Test
  void closesWithMessageTooBigWhenFragmentsAddUpToTooMuch() {
    channel.pipeline().fireExceptionCaught(new TooLongFrameException("content length exceeded"));

    CloseWebSocketFrame close = channel.readOutbound();
    assertThat(close.statusCode()).isEqualTo(WebSocketCloseStatus.MESSAGE_TOO_BIG.code());
    close.release();
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void answersMalformedJsonWithAnError() {
    channel.writeInbound(new TextWebSocketFrame("{\"ack\":"));

    TextWebSocketFrame out = channel.readOutbound();
    assertThat(out.text()).contains("MALFORMED_FRAME").contains("cannot decode JSON frame");
    out.release();
    assertThat(channel.isOpen()).isFalse();
  }

  private static ServerFrame pong(long nonce) {
    return ServerFrame.newBuilder().setPong(Pong.newBuilder().setNonce(nonce)).build();
  }
}
