package io.homing.edge.presence;

import io.homing.api.PresenceKeys;

/**
 * What a node hears on its {@link PresenceKeys#replaced} channel: the device's connection
 * {@code connectionId} on that node was replaced by a newer one on another node.
 *
 * <p>On the wire it is {@code {user length}:{user}{device length}:{device}{connection id}}
 * (lengths in UTF-16 chars, decimal), so user and device ids may hold any character.
 */
public record ReplaceNotice(String userId, String deviceId, String connectionId) {
  String encode() {
    return userId.length() + ":" + userId + deviceId.length() + ':' + deviceId + connectionId;
  }

  /** Reads a notice written by {@link #encode}; throws IllegalArgumentException otherwise. */
  static ReplaceNotice decode(String text) {
    Reader reader = new Reader(text);
    String user = reader.field();
    String device = reader.field();
    return new ReplaceNotice(user, device, reader.rest());
  }

  /** Reads length-prefixed fields from the start of a notice. */
  private static final class Reader {
    private final String text;
    private int at;

    Reader(String text) {
      this.text = text;
    }

    String field() {
      int colon = text.indexOf(':', at);
      int length;
      try {
        length = colon < 0 ? -1 : Integer.parseInt(text, at, colon, 10);
      } catch (NumberFormatException e) {
        length = -1;
      }
      // Compared with what is left rather than summed, which overflows for a length near
      // Integer.MAX_VALUE.
      if (length < 0 || length > text.length() - colon - 1) {
        throw new IllegalArgumentException("replace notice: \"" + text + "\" (expected: "
            + "{length}:{user}{length}:{device}{connection id})");
      }
      at = colon + 1 + length;
      return text.substring(colon + 1, at);
    }

    String rest() {
      return text.substring(at);
    }
  }
}
