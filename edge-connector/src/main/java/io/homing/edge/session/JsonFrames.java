package io.homing.edge.session;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import io.homing.api.v1.Ack;
import io.homing.api.v1.AuthError;
import io.homing.api.v1.ClientFrame;
import io.homing.api.v1.Error;
import io.homing.api.v1.ServerFrame;
import java.util.List;

/**
 * Frames in protobuf's JSON mapping, for every transport that speaks it (WebSocket text frames,
 * Server-Sent Events, long-poll): one line, defaults omitted, unknown fields skipped so that newer
 * clients can talk to older edges. Thread-safe.
 */
public final class JsonFrames {
  private static final JsonFormat.Parser PARSER = JsonFormat.parser().ignoringUnknownFields();
  private static final JsonFormat.Printer PRINTER =
      JsonFormat.printer().omittingInsignificantWhitespace();

  private JsonFrames() {}

  /** One line: the printer escapes line breaks inside strings. */
  public static String print(MessageOrBuilder message) {
    try {
      return PRINTER.print(message);
    } catch (InvalidProtocolBufferException e) {
      // Only Any fields with unknown types fail to print, and no frame has one.
      throw new IllegalStateException("cannot print " + message.getClass().getSimpleName(), e);
    }
  }

  /** A client frame in the JSON mapping; fields this edge does not know are skipped. */
  public static ClientFrame parseClientFrame(String json) throws InvalidProtocolBufferException {
    ClientFrame.Builder frame = ClientFrame.newBuilder();
    PARSER.merge(json, frame);
    return frame.build();
  }

  /** {@code {"frames":[…]}}: a long-poll's answer. */
  public static String frames(List<ServerFrame> frames) {
    StringBuilder json = new StringBuilder("{\"frames\":[");
    for (int i = 0; i < frames.size(); i++) {
      if (i > 0) {
        json.append(',');
      }
      json.append(print(frames.get(i)));
    }
    return json.append("]}").toString();
  }

  public static String error(Error.Code code, String message) {
    return print(ServerFrame.newBuilder()
        .setError(Error.newBuilder().setCode(code).setMessage(message)));
  }

  public static String authError(AuthError.Code code, String message) {
    return print(ServerFrame.newBuilder()
        .setAuthError(AuthError.newBuilder().setCode(code).setMessage(message)));
  }

  /**
   * The body of {@code POST /ack}: an Ack in the JSON mapping, {@code {"seq":"7"}}.
   *
   * @throws IllegalArgumentException when it does not parse or its seq is not above 0
   */
  public static Ack parseAck(String json) {
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
