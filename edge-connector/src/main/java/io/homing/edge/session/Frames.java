package io.homing.edge.session;

import io.homing.api.v1.AuthError;
import io.homing.api.v1.Error;
import io.homing.api.v1.PublishAck;
import io.homing.api.v1.PublishError;
import io.homing.api.v1.PushTargetError;
import io.homing.api.v1.PushTargetSet;
import io.homing.api.v1.ServerFrame;

/** The server frames that end a session, built in one place for every handler that sends them. */
public final class Frames {
  private Frames() {}

  /** An Error frame; the sender closes the connection after it. */
  public static ServerFrame error(Error.Code code, String message) {
    return ServerFrame.newBuilder()
        .setError(Error.newBuilder().setCode(code).setMessage(message))
        .build();
  }

  /** An AuthError frame; the sender closes the connection after it. */
  static ServerFrame authError(AuthError.Code code, String message) {
    return ServerFrame.newBuilder()
        .setAuthError(AuthError.newBuilder().setCode(code).setMessage(message))
        .build();
  }

  static ServerFrame publishAck(String messageId) {
    return ServerFrame.newBuilder()
        .setPublishAck(PublishAck.newBuilder().setMessageId(messageId))
        .build();
  }

  static ServerFrame pushTargetSet(String requestId) {
    return ServerFrame.newBuilder()
        .setPushTargetSet(PushTargetSet.newBuilder().setRequestId(requestId))
        .build();
  }

  static ServerFrame pushTargetError(String requestId, PushTargetError.Code code,
      String message) {
    return ServerFrame.newBuilder()
        .setPushTargetError(PushTargetError.newBuilder().setRequestId(requestId).setCode(code)
            .setMessage(message))
        .build();
  }

  static ServerFrame publishError(String messageId, PublishError.Code code, String message) {
    return ServerFrame.newBuilder()
        .setPublishError(
            PublishError.newBuilder().setMessageId(messageId).setCode(code).setMessage(message))
        .build();
  }
}
