package io.homing.edge.transport.websocket;

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
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The transport on the wire: bytes a client would send in, bytes it would read out. */
class WebSocketTransportTest {
  private static final int MAX_FRAME_BYTES = 1024;

  private final RecordingConnection connection = new RecordingConnection();
  private final EmbeddedChannel channel =
      new EmbeddedChannel(new WebSocketTransport(WebSocketDecoderConfig.newBuilder()
          .maxFramePayloadLength(MAX_FRAME_BYTES)
          .expectMaskedFrames(true)
          .closeOnProtocolViolation(false)
          .build(), connection));
  /** The client's side: masks what it sends, reads what the server sends. */
  private final EmbeddedChannel clientEncoder = new EmbeddedChannel(new WebSocket13FrameEncoder(true));
  private final EmbeddedChannel clientDecoder =
      new EmbeddedChannel(new WebSocket13FrameDecoder(false, false, 1 << 16));

  private final List<WebSocketFrame> seen = new ArrayList<>();

  @AfterEach
  void releaseEverything() {
    seen.forEach(WebSocketFrame::release);
    channel.finishAndReleaseAll();
    clientEncoder.finishAndReleaseAll();
    clientDecoder.finishAndReleaseAll();
  }

  @Test
  void decodesProtobufFromBinaryFramesAndAnswersInBinary() throws IOException {
    send(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(ack(7).toByteArray())));
    channel.writeOutbound(pong(3));

    assertThat(connection.frames.poll()).isEqualTo(ack(7));
    assertThat(parse(this.<BinaryWebSocketFrame>received())).isEqualTo(pong(3));
  }

  @Test
  void decodesJsonFromTextFramesAndAnswersInJson() {
    send(new TextWebSocketFrame("{\"ack\":{\"seq\":\"7\"}}"));
    channel.writeOutbound(pong(3));

    assertThat(connection.frames.poll()).isEqualTo(ack(7));
    assertThat(this.<TextWebSocketFrame>received().text()).isEqualTo("{\"pong\":{\"nonce\":\"3\"}}");
  }

  @Test
  void ignoresUnknownJsonFieldsAsBinaryFramesDo() {
    send(new TextWebSocketFrame(
        "{\"ack\":{\"seq\":\"7\",\"fromANewerClient\":true},\"alsoNew\":{\"x\":1}}"));

    assertThat(connection.frames.poll()).isEqualTo(ack(7));
    assertThat(channel.isOpen()).isTrue();
  }

  @Test
  void readsNoMoreWhileTheSessionHasAutoReadOff() {
    int[] reads = {0};
    EmbeddedChannel paused = new EmbeddedChannel(new ChannelOutboundHandlerAdapter() {
      @Override
      public void read(ChannelHandlerContext ctx) {
        reads[0]++;
        ctx.read();
      }
    }, new WebSocketTransport(WebSocketDecoderConfig.newBuilder().expectMaskedFrames(true).build(),
        connection));
    paused.config().setAutoRead(false); // as the session does with too many publishes in flight
    reads[0] = 0;
    clientEncoder.writeOutbound(
        new BinaryWebSocketFrame(Unpooled.wrappedBuffer(ack(1).toByteArray())));
    for (Object bytes; (bytes = clientEncoder.readOutbound()) != null; ) {
      paused.writeInbound(bytes);
    }

    assertThat(connection.frames).containsExactly(ack(1));
    assertThat(reads[0]).isZero();
    paused.finishAndReleaseAll();
  }

  @Test
  void joinsTheFragmentsOfAMessage() {
    byte[] bytes = ack(9).toByteArray();
    send(new BinaryWebSocketFrame(false, 0, Unpooled.wrappedBuffer(bytes, 0, 1)));
    assertThat(connection.frames).isEmpty();
    send(new ContinuationWebSocketFrame(false, 0, Unpooled.wrappedBuffer(bytes, 1, 1)));
    send(new ContinuationWebSocketFrame(true, 0,
        Unpooled.wrappedBuffer(bytes, 2, bytes.length - 2)));

    assertThat(connection.frames.poll()).isEqualTo(ack(9));
  }

  @Test
  void answersPingsWithTheirPayload() {
    send(new PingWebSocketFrame(Unpooled.copiedBuffer("hi", StandardCharsets.UTF_8)));

    PongWebSocketFrame pong = received();
    assertThat(pong.content().toString(StandardCharsets.UTF_8)).isEqualTo("hi");
    assertThat(connection.frames).isEmpty();
  }

  @Test
  void answersAMalformedBinaryFrameWithAnErrorThenItsCloseCode() throws IOException {
    send(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(new byte[] {(byte) 0xFF, (byte) 0xFF, 1})));

    assertThat(connection.frames).isEmpty();
    Error error = parse(this.<BinaryWebSocketFrame>received()).getError();
    assertThat(error.getCode()).isEqualTo(Error.Code.MALFORMED_FRAME);
    assertThat(error.getMessage()).startsWith("cannot decode protobuf frame");
    assertThat(this.<CloseWebSocketFrame>received().statusCode())
        .isEqualTo(CloseCodes.ERROR_BASE + Error.Code.MALFORMED_FRAME_VALUE);
    assertThat(channel.isOpen()).isTrue(); // until the client answers

    send(new CloseWebSocketFrame(WebSocketCloseStatus.NORMAL_CLOSURE));
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void answersMalformedJsonWithAnError() {
    send(new TextWebSocketFrame("{\"ack\":"));

    assertThat(this.<TextWebSocketFrame>received().text())
        .contains("MALFORMED_FRAME").contains("cannot decode JSON frame");
  }

  @Test
  void closesWith1007OnTextThatIsNotUtf8() {
    send(new TextWebSocketFrame(Unpooled.wrappedBuffer(new byte[] {'{', (byte) 0xC3, '}'})));

    assertThat(this.<CloseWebSocketFrame>received().statusCode()).isEqualTo(1007);
    assertThat(connection.frames).isEmpty();
  }

  @Test
  void closesWith1009OnAFrameOverTheLimit() {
    send(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(new byte[MAX_FRAME_BYTES + 1])));

    CloseWebSocketFrame close = received();
    assertThat(close.statusCode()).isEqualTo(1009);
    assertThat(close.reasonText()).contains("1024");
    assertThat(connection.frames).isEmpty();
  }

  @Test
  void closesWith1009WhenFragmentsAddUpToMoreThanTheLimit() {
    send(new BinaryWebSocketFrame(false, 0, Unpooled.wrappedBuffer(new byte[MAX_FRAME_BYTES])));
    send(new ContinuationWebSocketFrame(true, 0, Unpooled.wrappedBuffer(new byte[1])));

    assertThat(this.<CloseWebSocketFrame>received().statusCode()).isEqualTo(1009);
    assertThat(connection.frames).isEmpty();
  }

  @Test
  void closesWith1002OnAnUnmaskedClientFrame() {
    EmbeddedChannel unmasked = new EmbeddedChannel(new WebSocket13FrameEncoder(false));
    unmasked.writeOutbound(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(ack(1).toByteArray())));
    for (Object bytes; (bytes = unmasked.readOutbound()) != null; ) {
      channel.writeInbound(bytes);
    }

    assertThat(this.<CloseWebSocketFrame>received().statusCode()).isEqualTo(1002);
    assertThat(connection.frames).isEmpty();
  }

  @Test
  void anErrorFrameSetsTheCloseStatusThatFollowsIt() {
    send(new TextWebSocketFrame("{\"ping\":{}}")); // the session answers in JSON
    connection.frames.poll();

    channel.writeOutbound(ServerFrame.newBuilder()
        .setError(Error.newBuilder().setCode(Error.Code.REPLACED).setMessage("elsewhere"))
        .build());
    channel.close();

    assertThat(this.<TextWebSocketFrame>received().text()).contains("REPLACED");
    CloseWebSocketFrame close = received();
    assertThat(close.statusCode()).isEqualTo(4004);
    assertThat(close.reasonText()).isEqualTo("REPLACED: elsewhere");
  }

  @Test
  void closeSendsOneCloseFrameAndWaitsForTheClientsAnswer() {
    ChannelFuture closed = channel.close();

    assertThat(this.<CloseWebSocketFrame>received().statusCode()).isEqualTo(1000);
    assertThat(closed.isDone()).isFalse();
    assertThat(channel.isOpen()).isTrue();

    send(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(ack(1).toByteArray())));
    assertThat(connection.frames).isEmpty(); // discarded while closing
    send(new CloseWebSocketFrame(WebSocketCloseStatus.NORMAL_CLOSURE));

    assertThat(closed.isSuccess()).isTrue();
    assertThat(channel.isOpen()).isFalse();
    assertThat(channel.<Object>readOutbound()).isNull();
    assertThat(connection.closed).isTrue();
  }

  @Test
  void aClientThatNeverAnswersIsDroppedAfterTheLinger() {
    channel.freezeTime();
    channel.pipeline().close(); // EmbeddedChannel.close() would cancel the scheduled linger
    assertThat(this.<CloseWebSocketFrame>received().statusCode()).isEqualTo(1000);

    channel.advanceTimeBy(LingeringClose.LINGER_MILLIS - 100, TimeUnit.MILLISECONDS);
    channel.runScheduledPendingTasks();
    assertThat(channel.isOpen()).isTrue();

    channel.advanceTimeBy(200, TimeUnit.MILLISECONDS);
    channel.runScheduledPendingTasks();
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void nothingIsWrittenAfterTheCloseFrame() {
    channel.close();
    assertThat(this.<CloseWebSocketFrame>received()).isNotNull();

    ChannelFuture write = channel.writeAndFlush(pong(1));

    assertThat(write.cause()).isInstanceOf(ClosedChannelException.class);
    assertThat(channel.<Object>readOutbound()).isNull();
  }

  @Test
  void aCloseStartedByTheClientIsAnsweredWithItsStatusAndEndsAtOnce() {
    send(new CloseWebSocketFrame(WebSocketCloseStatus.ENDPOINT_UNAVAILABLE));

    assertThat(this.<CloseWebSocketFrame>received().statusCode()).isEqualTo(1001);
    assertThat(channel.isOpen()).isFalse();
    assertThat(connection.frames).isEmpty();
  }

  @ParameterizedTest(name = "status {0}")
  @ValueSource(ints = {64769, 5000, 2999, 1015, 1006, 1005, 1004, 999, 0})
  void answersACloseWithAnInvalidStatusWithProtocolError(int invalid) {
    // Found by WebSocketTransportFuzzTest (seed close-status-64769): Netty's decoder refuses
    // some (its own reason), but reads the status as a signed short and lets negative ones
    // through, and every one from 3000 up, so 64769 was echoed back.
    send(new CloseWebSocketFrame(true, 0, Unpooled.buffer(2).writeShort(invalid)));

    CloseWebSocketFrame answer = received();
    assertThat(answer.statusCode()).isEqualTo(1002);
    assertThat(answer.reasonText()).containsIgnoringCase("close")
        .contains(String.valueOf(invalid));
  }

  @ParameterizedTest(name = "status {0}")
  @ValueSource(ints = {1000, 1003, 1007, 1011, 1012, 1014, 3000, 4999})
  void echoesAValidCloseStatus(int valid) {
    send(new CloseWebSocketFrame(true, 0, Unpooled.buffer(2).writeShort(valid)));

    assertThat(this.<CloseWebSocketFrame>received().statusCode()).isEqualTo(valid);
    assertThat(channel.isOpen()).isFalse();
  }

  /** Sends the frame as a client would: masked, on the wire. */
  private void send(WebSocketFrame frame) {
    clientEncoder.writeOutbound(frame);
    for (Object bytes; (bytes = clientEncoder.readOutbound()) != null; ) {
      channel.writeInbound(bytes);
    }
  }

  /** The next frame the server sent, as the client reads it; released after the test. */
  @SuppressWarnings("unchecked")
  private <T extends WebSocketFrame> T received() {
    for (Object bytes; (bytes = channel.readOutbound()) != null; ) {
      clientDecoder.writeInbound((ByteBuf) bytes);
    }
    T frame = (T) clientDecoder.readInbound();
    assertThat(frame).as("a frame from the server").isNotNull();
    seen.add(frame);
    return frame;
  }

  private static ServerFrame parse(BinaryWebSocketFrame frame) throws IOException {
    try (ByteBufInputStream in = new ByteBufInputStream(frame.content().duplicate())) {
      return ServerFrame.parseFrom(in);
    }
  }

  private static ClientFrame ack(long seq) {
    return ClientFrame.newBuilder().setAck(Ack.newBuilder().setSeq(seq)).build();
  }

  private static ServerFrame pong(long nonce) {
    return ServerFrame.newBuilder().setPong(Pong.newBuilder().setNonce(nonce)).build();
  }
}
