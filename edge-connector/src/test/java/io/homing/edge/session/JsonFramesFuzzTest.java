package io.homing.edge.session;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.InvalidProtocolBufferException;
import io.homing.api.v1.Ack;
import io.homing.api.v1.ClientFrame;
import java.nio.charset.StandardCharsets;

/**
 * The JSON mapping as every text transport reads it: a WebSocket text frame's client frame and
 * the body of {@code POST /ack}. Any text parses or fails with the documented exception ({@code
 * InvalidProtocolBufferException}, for an Ack {@code IllegalArgumentException}), and what parses
 * prints back to the same frame, in JSON as in protobuf. See docs/fuzzing.md.
 */
class JsonFramesFuzzTest {
  @FuzzTest
  void parsesFramesOrRefusesThem(byte[] input) throws InvalidProtocolBufferException {
    String json = new String(input, StandardCharsets.UTF_8);
    try {
      ClientFrame frame = JsonFrames.parseClientFrame(json);
      assertThat(JsonFrames.parseClientFrame(JsonFrames.print(frame))).isEqualTo(frame);
      assertThat(ClientFrame.parseFrom(frame.toByteArray())).isEqualTo(frame);
    } catch (InvalidProtocolBufferException refused) {
      assertThat(refused.getMessage()).isNotNull();
    }
    try {
      Ack ack = JsonFrames.parseAck(json);
      assertThat(ack.getSeq()).isPositive();
      assertThat(JsonFrames.parseAck(JsonFrames.print(ack))).isEqualTo(ack);
    } catch (IllegalArgumentException refused) {
      assertThat(refused.getMessage()).isNotNull();
    }
  }
}
