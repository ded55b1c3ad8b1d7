package io.homing.edge.transport.websocket;

import static org.assertj.core.api.Assertions.assertThat;

import io.homing.api.v1.Ack;
import io.homing.api.v1.AuthError;
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
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
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

  @Test
  void ignoresUnknownJsonFieldsAsBinaryFramesDo() {
    channel.writeInbound(new TextWebSocketFrame(
        "{\"ack\":{\"seq\":\"7\",\"fromANewerClient\":true},\"alsoNew\":{\"x\":1}}"));

    assertThat((ClientFrame) channel.readInbound())
        .isEqualTo(ClientFrame.newBuilder().setAck(Ack.newBuilder().setSeq(7)).build());
    assertThat(channel.isOpen()).isTrue();
  }

  @Test
  void anErrorFrameSetsTheCloseStatusThatFollowsIt() {
    EmbeddedChannel ws =
        new EmbeddedChannel(new WebSocketCloser(Duration.ofSeconds(2)), new WebSocketFrameCodec());
    ws.pipeline().addFirst(new WebSocket13FrameEncoder(false)); // makes the closer speak WebSocket
    ws.writeInbound(new TextWebSocketFrame("{\"ping\":{}}")); // the session answers in JSON
    ws.readInbound();

    ws.writeOutbound(ServerFrame.newBuilder()
        .setError(Error.newBuilder().setCode(Error.Code.REPLACED).setMessage("elsewhere"))
        .build());
    ws.close();

    ByteBuf wire = Unpooled.buffer();
    for (Object out; (out = ws.readOutbound()) != null; ) {
      wire.writeBytes((ByteBuf) out);
      ((ByteBuf) out).release();
    }
    EmbeddedChannel reader = new EmbeddedChannel(new WebSocket13FrameDecoder(false, false, 1 << 16));
    reader.writeInbound(wire);
    TextWebSocketFrame error = reader.readInbound();
    assertThat(error.text()).contains("REPLACED");
    error.release();
    CloseWebSocketFrame close = reader.readInbound();
    assertThat(close.statusCode()).isEqualTo(4004);
    assertThat(close.reasonText()).isEqualTo("REPLACED: elsewhere");
    close.release();
  }

  @Test
  void closeCodesFollowTheErrorCodes() {
    ServerFrame authError = ServerFrame.newBuilder()
        .setAuthError(AuthError.newBuilder().setCode(AuthError.Code.EXPIRED_TOKEN)
            .setMessage("x".repeat(300)))
        .build();

    WebSocketCloseStatus status = CloseCodes.of(authError);

    assertThat(status.code()).isEqualTo(4102);
    assertThat(status.reasonText()).startsWith("EXPIRED_TOKEN: xxx").hasSize(123);
    assertThat(CloseCodes.truncate("é".repeat(100)).getBytes(StandardCharsets.UTF_8))
        .hasSizeLessThanOrEqualTo(123);
    assertThat(CloseCodes.of(pong(1))).isNull();
  }

  private static ServerFrame pong(long nonce) {
    return ServerFrame.newBuilder().setPong(Pong.newBuilder().setNonce(nonce)).build();
  }
}
