package io.homing.edge.transport.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;
import java.util.Set;

/**
 * Which web origins may call the HTTP fallback from a browser: none (no CORS headers at all), a
 * list, or any ({@code *}). An allowed origin gets {@code Access-Control-Allow-Origin} on every
 * answer of {@code /sse}, {@code /poll} and {@code /ack}, and a preflight {@code OPTIONS} the
 * methods and request headers the fallback reads. Immutable.
 */
final class CorsPolicy {
  static final String METHODS = "GET, POST, OPTIONS";
  static final String REQUEST_HEADERS = "Authorization, Content-Type, Last-Event-ID";
  /** How long a browser may cache a preflight's answer, in seconds. */
  static final String MAX_AGE_SECONDS = "600";

  private final boolean any;
  private final Set<String> origins;

  private CorsPolicy(boolean any, Set<String> origins) {
    this.any = any;
    this.origins = origins;
  }

  /** @param origins {@code scheme://host[:port]} each, or the one entry {@code *}; empty: no CORS */
  static CorsPolicy of(List<String> origins) {
    if (origins.equals(List.of("*"))) {
      return new CorsPolicy(true, Set.of());
    }
    return new CorsPolicy(false, Set.copyOf(origins));
  }

  /** Adds the headers of an actual request's answer, if the request's origin is allowed. */
  void addTo(HttpHeaders request, HttpHeaders response) {
    String origin = request.get(HttpHeaderNames.ORIGIN);
    if (origin == null || !(any || origins.contains(origin))) {
      return;
    }
    if (any) {
      response.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, "*");
    } else {
      response.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, origin);
      response.add(HttpHeaderNames.VARY, "Origin");
    }
  }

  /** Adds the headers of a preflight's answer, if the request's origin is allowed. */
  void addPreflightTo(HttpHeaders request, HttpHeaders response) {
    addTo(request, response);
    if (response.contains(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN)) {
      response.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_METHODS, METHODS);
      response.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_HEADERS, REQUEST_HEADERS);
      response.set(HttpHeaderNames.ACCESS_CONTROL_MAX_AGE, MAX_AGE_SECONDS);
    }
  }
}
