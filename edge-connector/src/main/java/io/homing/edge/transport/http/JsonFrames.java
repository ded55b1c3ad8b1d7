package io.homing.edge.transport.http;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import io.homing.api.v1.Ack;
import io.homing.api.v1.AuthError;
import io.homing.api.v1.Error;
import io.homing.api.v1.ServerFrame;
import java.util.List;

/**
 * Frames in protobuf's JSON mapping, as the WebSocket codec writes and reads text frames: one line,
 * defaults omitted, unknown fields skipped. Thread-safe.
 */
final class JsonFrames {
  private static final JsonFormat.Parser PARSER = JsonFormat.parser().ignoringUnknownFields();
  private static final JsonFormat.Printer PRINTER =
      JsonFormat.printer().omittingInsignificantWhitespace();

  private JsonFrames() {}

  /** One line: the printer escapes line breaks inside strings. */
  static String print(MessageOrBuilder message) {
    try {
      return PRINTER.print(message);
    } catch (InvalidProtocolBufferException e) {
      // Only Any fields with unknown types fail to print, and no frame has one.
      throw new IllegalStateException("cannot print " + message.getClass().getSimpleName(), e);
    }
  }

  /** {@code {"frames":[…]}}: a long-poll's answer. */
  static String frames(List<ServerFrame> frames) {
    StringBuilder json = new StringBuilder("{\"frames\":[");
    for (int i = 0; i < frames.size(); i++) {
      if (i > 0) {
        json.append(',');
      }
      json.append(print(frames.get(i)));
    }
    return json.append("]}").toString();
  }

  static String error(Error.Code code, String message) {
    return print(ServerFrame.newBuilder()
        .setError(Error.newBuilder().setCode(code).setMessage(message)));
  }

  static String authError(AuthError.Code code, String message) {
    return print(ServerFrame.newBuilder()
        .setAuthError(AuthError.newBuilder().setCode(code).setMessage(message)));
  }

  /**
   * The body of {@code POST /ack}: an Ack in the JSON mapping, {@code {"seq":"7"}}.
   *
   * @throws IllegalArgumentException when it does not parse or its seq is not above 0
   */
  static Ack parseAck(String json) {
    Ack.Builder ack = Ack.newBuilder();
    try {
      PARSER.merge(json, ack);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException("cannot decode the Ack: " + e.getMessage(), e);
    }
    if (ack.getSeq() <= 0) {
      throw new IllegalArgumentException("seq: " + ack.getSeq() + " (expected: > 0)");
    }
    return ack.build();
  }
}
