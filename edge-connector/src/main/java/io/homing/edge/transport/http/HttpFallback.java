package io.homing.edge.transport.http;

import io.homing.edge.session.SessionContext;
import io.netty.channel.ChannelHandler;
import java.util.List;

/**
 * The HTTP fallback for clients behind proxies that break WebSockets, on the WebSocket port:
 * Server-Sent Events at {@code GET /sse} with acks at {@code POST /ack}, and long-polling at {@code
 * GET /poll}, each a normal {@link io.homing.edge.session.Session} (docs/protocol.md, "HTTP
 * fallback"). What the node's connections share: the session context, the CORS policy, the
 * long-poll sessions. Thread-safe.
 */
public final class HttpFallback {
  /** The fallback's paths, for the log. */
  public static final String PATHS = String.join(", ", HttpFallbackHandler.SSE,
      HttpFallbackHandler.POLL, HttpFallbackHandler.ACK);

  private final SessionContext context;
  private final CorsPolicy cors;
  private final PollSessions polls;

  /** @param corsOrigins the origins browsers may call from, {@code *} for any; empty: none */
  public HttpFallback(SessionContext context, List<String> corsOrigins) {
    this.context = context;
    this.cors = CorsPolicy.of(corsOrigins);
    this.polls = new PollSessions(context);
  }

  /**
   * The handler of one connection's plain HTTP requests, to sit right after the HTTP codec and
   * aggregator. A WebSocket upgrade at {@code webSocketPath} passes on to the WebSocket handlers;
   * the first other request takes every handler after this one (the WebSocket handlers) out of
   * the pipeline, and the connection speaks HTTP from then on.
   */
  public ChannelHandler newHandler(String webSocketPath) {
    return new HttpFallbackHandler(context, cors, polls, webSocketPath);
  }
}
