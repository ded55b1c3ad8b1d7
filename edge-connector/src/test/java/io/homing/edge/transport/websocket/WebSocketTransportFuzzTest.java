package io.homing.edge.transport.websocket;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.DiscardUnknownFieldsParser;
import io.homing.api.v1.ClientFrame;
import io.homing.edge.session.JsonFrames;
import io.homing.edge.transport.Connections;
import io.homing.edge.transport.RecordingConnection;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What a WebSocket client sends after the upgrade, through the real {@link WebSocketTransport}:
 * every frame it passes on serializes back to itself and survives the JSON mapping (but for
 * fields unknown to this version, which JSON drops); the connection never fails with an
 * exception; the server sends at most one Close frame, also when it closes at the end, with a
 * status the protocol documents (1000, 1002, 1007, 1009, or 4001 after {@code MALFORMED_FRAME}) or
 * the client's own Close's valid status (or none), echoed; once the linger ran out, the channel is
 * closed and every buffer read is released, fragments included.
 *
 * <p>An odd first byte makes the rest raw bytes on the wire; an even one a list of frames, each a
 * kind-and-FIN byte, a length byte and the payload, masked by Netty's client encoder so that the
 * fuzzer gets past the framing to the protobuf and JSON inside. See docs/fuzzing.md.
 */
class WebSocketTransportFuzzTest {
  private static final int MAX_FRAME_BYTES = 1024;
  private static final WebSocketDecoderConfig DECODER = WebSocketDecoderConfig.newBuilder()
      .maxFramePayloadLength(MAX_FRAME_BYTES)
      .expectMaskedFrames(true)
      .allowExtensions(false)
      .closeOnProtocolViolation(false)
      .build();
  private static final Set<Integer> CLOSE_CODES = Set.of(1000, 1002, 1007, 1009, 4001);
  /** What Netty reads as the status of a Close frame without one. */
  private static final int NO_STATUS = -1;

  @FuzzTest
  void decodesFramesOrClosesWithADocumentedStatus(byte[] input) throws IOException {
    RecordingConnection connection = new RecordingConnection();
    EmbeddedChannel channel = new EmbeddedChannel(new WebSocketTransport(DECODER, connection));
    List<ByteBuf> wire = wire(input);
    Set<Integer> echoable = clientCloseStatuses(wire);
    List<ByteBuf> written = new ArrayList<>();
    for (ByteBuf bytes : wire) {
      written.add(bytes);
      if (channel.isOpen()) {
        channel.writeInbound(bytes);
      } else {
        bytes.release();
      }
    }

    Connections.end(channel);

    EmbeddedChannel client = new EmbeddedChannel(new WebSocket13FrameDecoder(false, false,
        1 << 16));
    for (ByteBuf out; (out = channel.readOutbound()) != null; ) {
      client.writeInbound(out);
    }
    int closes = 0;
    for (WebSocketFrame frame; (frame = client.readInbound()) != null; frame.release()) {
      if (frame instanceof CloseWebSocketFrame close) {
        closes++;
        if (!echoable.contains(close.statusCode())) {
          assertThat(close.statusCode()).isIn(CLOSE_CODES);
        }
      }
    }
    client.finishAndReleaseAll();
    channel.finishAndReleaseAll();

    assertThat(connection.closed).isTrue();
    assertThat(connection.failure).isNull();
    assertThat(closes).isLessThanOrEqualTo(1);
    for (ClientFrame frame : connection.frames) {
      assertThat(ClientFrame.parseFrom(frame.toByteArray())).isEqualTo(frame);
      // The JSON mapping has no place for fields this version does not know; the rest survives.
      assertThat(JsonFrames.parseClientFrame(JsonFrames.print(frame)))
          .isEqualTo(withoutUnknownFields(frame));
    }
    assertThat(written).allSatisfy(bytes -> assertThat(bytes.refCnt()).isZero());
  }

  private static ClientFrame withoutUnknownFields(ClientFrame frame) throws IOException {
    return DiscardUnknownFieldsParser.wrap(ClientFrame.parser()).parseFrom(frame.toByteArray());
  }

  /**
   * The statuses of the client's Close frames that the server may echo (RFC 6455 §7.4), or
   * {@link #NO_STATUS} for one without: read from a copy of the wire by a decoder like the
   * transport's, up to where it finds a violation.
   */
  private static Set<Integer> clientCloseStatuses(List<ByteBuf> wire) {
    Set<Integer> statuses = new HashSet<>();
    EmbeddedChannel decoder = new EmbeddedChannel(new WebSocket13FrameDecoder(DECODER));
    try {
      for (ByteBuf bytes : wire) {
        decoder.writeInbound(bytes.retainedDuplicate());
      }
    } catch (RuntimeException violation) {
      // The transport closes at the same place; what came before is read.
    }
    for (WebSocketFrame frame; (frame = decoder.readInbound()) != null; frame.release()) {
      if (frame instanceof CloseWebSocketFrame close && (close.statusCode() == NO_STATUS
          || CloseCodes.isValidFromPeer(close.statusCode()))) {
        statuses.add(close.statusCode());
      }
    }
    decoder.finishAndReleaseAll();
    return statuses;
  }

  /** The bytes a client puts on the wire for the input. */
  private static List<ByteBuf> wire(byte[] input) {
    List<ByteBuf> wire = new ArrayList<>();
    if (input.length == 0) {
      return wire;
    }
    if ((input[0] & 1) == 1) {
      if (input.length > 1) { // an empty wrap is Unpooled.EMPTY_BUFFER, never released
        wire.add(Unpooled.wrappedBuffer(input, 1, input.length - 1));
      }
      return wire;
    }
    EmbeddedChannel encoder = new EmbeddedChannel(new WebSocket13FrameEncoder(true));
    for (int at = 1; at + 1 < input.length; ) {
      int kind = input[at] & 0xff;
      // The encoder sends no control frame over 125 bytes (RFC 6455 §5.5); raw bytes do.
      int most = (kind & 7) >= 3 && (kind & 7) <= 5 ? 125 : 255;
      int length = Math.min(Math.min(input[at + 1] & 0xff, most), input.length - at - 2);
      ByteBuf payload = Unpooled.wrappedBuffer(input, at + 2, length);
      at += 2 + length;
      boolean fin = (kind & 0x80) == 0;
      encoder.writeOutbound(switch (kind & 7) {
        case 0 -> new BinaryWebSocketFrame(fin, 0, payload);
        case 1 -> new TextWebSocketFrame(fin, 0, payload);
        case 2 -> new ContinuationWebSocketFrame(fin, 0, payload);
        case 3 -> new PingWebSocketFrame(payload);
        case 4 -> new PongWebSocketFrame(payload);
        case 5 -> new CloseWebSocketFrame(true, 0, payload);
        default -> new BinaryWebSocketFrame(fin, (kind >> 4) & 7, payload); // RSV bits set
      });
    }
    for (ByteBuf bytes; (bytes = encoder.readOutbound()) != null; ) {
      wire.add(bytes);
    }
    encoder.finishAndReleaseAll();
    return wire;
  }
}
