package io.homing.edge.transport.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.List;

/** What the HTTP fallback reads from a request: its path, token and numeric parameters. */
final class HttpRequests {
  private static final String BEARER = "Bearer ";

  private HttpRequests() {}

  /**
   * Why the request's path or parameters do not decode (a malformed percent-escape), or null when
   * they do. Only then do {@link #path} and the parameters' readers not throw.
   */
  static String undecodable(HttpRequest request) {
    QueryStringDecoder uri = new QueryStringDecoder(request.uri());
    try {
      uri.path();
      uri.parameters();
      return null;
    } catch (IllegalArgumentException e) {
      // Not Netty's message: it quotes the URI, and a token parameter with it.
      return "the request URI has a malformed percent-escape (expected: % and two hex digits)";
    }
  }

  static String path(HttpRequest request) {
    return new QueryStringDecoder(request.uri()).path();
  }

  /**
   * The token of {@code Authorization: Bearer <token>}, else of the {@code token} parameter (what
   * a browser's EventSource can send), else the empty string (which never verifies).
   */
  static String token(HttpRequest request) {
    String authorization = request.headers().get(HttpHeaderNames.AUTHORIZATION);
    if (authorization != null && authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
      return authorization.substring(BEARER.length()).trim();
    }
    String token = parameter(request, "token");
    return token == null ? "" : token;
  }

  /**
   * A parameter that is a number from 0 to {@code max}, or {@code otherwise} when absent.
   *
   * @throws IllegalArgumentException when it is not such a number
   */
  static long number(HttpRequest request, String name, long otherwise, long max) {
    String value = parameter(request, name);
    return value == null ? otherwise : parse(name, value, max);
  }

  /** The seq a client resumes after: {@code Last-Event-ID}, else {@code last_seq}, else 0. */
  static long lastSeq(HttpRequest request) {
    String lastEventId = request.headers().get("Last-Event-ID");
    if (lastEventId != null && !lastEventId.isBlank()) {
      return parse("Last-Event-ID", lastEventId.trim(), Long.MAX_VALUE);
    }
    return number(request, "last_seq", 0, Long.MAX_VALUE);
  }

  private static String parameter(HttpRequest request, String name) {
    List<String> values = new QueryStringDecoder(request.uri()).parameters().get(name);
    return values == null || values.isEmpty() ? null : values.get(0);
  }

  private static long parse(String name, String value, long max) {
    long number;
    try {
      number = Long.parseLong(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + ": '" + value + "' (expected: a number)");
    }
    if (number < 0 || number > max) {
      throw new IllegalArgumentException(
          name + ": " + number + " (expected: 0.." + max + ")");
    }
    return number;
  }
}
