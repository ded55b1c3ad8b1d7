package io.homing.client;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.DiscardUnknownFieldsParser;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.homing.api.v1.ServerFrame;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import java.net.URI;
import java.util.Arrays;

/**
 * What an edge (or whatever answers at its address) sends the Java client: with an even first
 * byte the rest is raw TCP bytes through the client's real TCP pipeline ({@link
 * ClientTransport#addHandlers}), with an odd one a WebSocket message through {@link
 * WebSocketClientCodec}, binary protobuf or text JSON. Every frame decoded serializes back to
 * itself, and to JSON and back but for fields unknown to this version; anything else fails the
 * connection with the documented exceptions only (a frame over the limit, a length that is no
 * varint32, bytes or JSON that do not decode); every buffer is released. See docs/fuzzing.md.
 */
class ServerFramesFuzzTest {
  private static final int MAX_FRAME_BYTES = 4096;

  @FuzzTest
  void decodesServerFramesOrFailsClearly(byte[] input) throws InvalidProtocolBufferException {
    if (input.length == 0) {
      return;
    }
    byte[] rest = Arrays.copyOfRange(input, 1, input.length);
    // A buffer of its own even when empty: an empty wrap is Unpooled.EMPTY_BUFFER, never released.
    ByteBuf bytes = Unpooled.buffer(rest.length).writeBytes(rest);
    EmbeddedChannel channel;
    Object message;
    if ((input[0] & 1) == 0) {
      channel = new EmbeddedChannel();
      ChannelPipeline pipeline = channel.pipeline();
      ClientTransport.of(URI.create("tcp://edge.example:7412"), false, MAX_FRAME_BYTES)
          .addHandlers(pipeline);
      message = bytes;
    } else {
      channel = new EmbeddedChannel(new WebSocketClientCodec((input[0] & 2) == 2));
      message = (input[0] & 2) == 2 ? new TextWebSocketFrame(bytes)
          : new BinaryWebSocketFrame(bytes);
    }
    try {
      channel.writeInbound(message);
    } catch (DecoderException e) {
      assertDocumented(e);
    }
    for (Object frame; (frame = channel.readInbound()) != null; ) {
      ServerFrame read = (ServerFrame) frame;
      assertThat(ServerFrame.parseFrom(read.toByteArray())).isEqualTo(read);
      // The JSON mapping has no place for fields this version does not know; the rest survives.
      ServerFrame.Builder json = ServerFrame.newBuilder();
      JsonFormat.parser().merge(JsonFormat.printer().print(read), json);
      assertThat(json.build()).isEqualTo(
          DiscardUnknownFieldsParser.wrap(ServerFrame.parser()).parseFrom(read.toByteArray()));
    }
    try {
      channel.finishAndReleaseAll(); // the end of the input ends a frame cut short
    } catch (DecoderException e) {
      assertDocumented(e);
    }
    assertThat(bytes.refCnt()).isZero();
  }

  private static void assertDocumented(DecoderException e) {
    Throwable cause = e instanceof CorruptedFrameException || e instanceof TooLongFrameException
        ? e : e.getCause();
    assertThat(cause).isInstanceOfAny(CorruptedFrameException.class,
        TooLongFrameException.class, InvalidProtocolBufferException.class);
  }
}
