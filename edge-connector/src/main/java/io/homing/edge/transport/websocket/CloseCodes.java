package io.homing.edge.transport.websocket;

import io.homing.api.v1.ServerFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import java.nio.charset.StandardCharsets;

/**
 * The WebSocket close status that says why the server closes, for clients that only see the close
 * (a browser's {@code onclose}): {@code 4000 + Error.Code} after an Error frame, {@code 4100 +
 * AuthError.Code} after an AuthError frame (RFC 6455 §7.4.2 leaves 4000–4999 to applications),
 * 1000 otherwise. The reason is the frame's message, cut to the 123 bytes a Close frame holds.
 */
final class CloseCodes {
  static final int ERROR_BASE = 4000;
  static final int AUTH_ERROR_BASE = 4100;
  private static final int MAX_REASON_BYTES = 123;

  private CloseCodes() {}

  /**
   * Whether a peer may send {@code code} in a Close frame (RFC 6455 §7.4 and the IANA registry it
   * set up): the codes for use on the wire (1000–1003, 1007–1014) and those for libraries and
   * applications (3000–4999). 1004 is reserved; 1005, 1006 and 1015 only report a close that
   * carried no status, or none at all; everything else is unassigned. Netty's decoder lets more
   * through (every code above 3000, and above 32767 as a negative short), so the transport checks.
   */
  static boolean isValidFromPeer(int code) {
    return code >= 1000 && code <= 1003 || code >= 1007 && code <= 1014
        || code >= 3000 && code <= 4999;
  }

  /** The status for a frame that ends the session, or null for any other frame. */
  static WebSocketCloseStatus of(ServerFrame frame) {
    return switch (frame.getKindCase()) {
      case ERROR -> status(ERROR_BASE + frame.getError().getCodeValue(),
          frame.getError().getCode().name(), frame.getError().getMessage());
      case AUTH_ERROR -> status(AUTH_ERROR_BASE + frame.getAuthError().getCodeValue(),
          frame.getAuthError().getCode().name(), frame.getAuthError().getMessage());
      default -> null;
    };
  }

  private static WebSocketCloseStatus status(int code, String name, String message) {
    String reason = message.isEmpty() ? name : name + ": " + message;
    return new WebSocketCloseStatus(code, truncate(reason));
  }

  /** At most 123 bytes of UTF-8, never cutting a character in two. */
  static String truncate(String reason) {
    if (reason.getBytes(StandardCharsets.UTF_8).length <= MAX_REASON_BYTES) {
      return reason;
    }
    int end = reason.length();
    while (reason.substring(0, end).getBytes(StandardCharsets.UTF_8).length > MAX_REASON_BYTES) {
      end = reason.offsetByCodePoints(end, -1);
    }
    return reason.substring(0, end);
  }
}
