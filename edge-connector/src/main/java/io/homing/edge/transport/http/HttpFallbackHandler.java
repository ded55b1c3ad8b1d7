package io.homing.edge.transport.http;

import io.homing.api.v1.Ack;
import io.homing.api.v1.Auth;
import io.homing.api.v1.ClientFrame;
import io.homing.api.v1.Error;
import io.homing.edge.auth.AuthenticationException;
import io.homing.edge.auth.Identity;
import io.homing.edge.session.JsonFrames;
import io.homing.edge.session.Session;
import io.homing.edge.session.SessionContext;
import io.homing.edge.session.SessionHandler;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One connection's plain HTTP requests: {@code GET /sse} turns the connection into an event stream
 * with a {@link Session} of its own; {@code GET /poll} and {@code POST /ack} are answered from the
 * node's long-poll sessions and connection registry; {@code OPTIONS} on those paths is a CORS
 * preflight; anything else is 404. A WebSocket upgrade at the WebSocket path passes on to the
 * upgrade handler, which takes this one out.
 *
 * <p>A plain HTTP connection kept alive with no request in progress is closed after the node's
 * idle timeout, as a server's keep-alive timeout does: it holds no session, so nothing else would
 * ever close it.
 *
 * <p>One instance per channel; runs on its event loop. Releases every request it handles.
 */
final class HttpFallbackHandler extends ChannelDuplexHandler {
  static final String SSE = "/sse";
  static final String POLL = "/poll";
  static final String ACK = "/ack";
  static final long DEFAULT_POLL_TIMEOUT_MILLIS = 25_000;
  static final long MAX_POLL_TIMEOUT_MILLIS = 60_000;
  private static final String JSON = "application/json";

  private final SessionContext context;
  private final CorsPolicy cors;
  private final PollSessions polls;
  private final String webSocketPath;
  private boolean plainHttp;
  private boolean streaming;
  /** Requests of a plain HTTP connection not answered yet. */
  private int inProgress;
  /** Closes a plain HTTP connection that has no request in progress when it runs. */
  private ScheduledFuture<?> keepAliveTimeout;

  HttpFallbackHandler(SessionContext context, CorsPolicy cors, PollSessions polls,
      String webSocketPath) {
    this.context = context;
    this.cors = cors;
    this.polls = polls;
    this.webSocketPath = webSocketPath;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof FullHttpRequest request)) {
      ctx.fireChannelRead(msg);
      return;
    }
    if (streaming) {
      ReferenceCountUtil.release(msg); // an event stream's client has nothing more to say
      return;
    }
    if (!ctx.channel().isActive()) {
      // Pipelined after the request the connection closed on, and decoded from the same read:
      // nobody reads an answer, and a session made for it would never see its connection close.
      ReferenceCountUtil.release(msg);
      return;
    }
    if (!plainHttp && isUpgrade(request)) {
      ctx.fireChannelRead(msg);
      return;
    }
    if (keepAliveTimeout != null) {
      keepAliveTimeout.cancel(false);
      keepAliveTimeout = null;
    }
    inProgress++;
    try {
      handle(ctx, request);
    } finally {
      request.release();
    }
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof FullHttpResponse && plainHttp && --inProgress == 0
        && ctx.channel().isActive()) {
      keepAliveTimeout = ctx.executor().schedule(() -> {
        ctx.close();
      }, context.idleTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }
    ctx.write(msg, promise);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (keepAliveTimeout != null) {
      keepAliveTimeout.cancel(false);
    }
    ctx.fireChannelInactive();
  }

  /**
   * A plain HTTP connection that closes or breaks under a request is not a failure: the client
   * went away (a reset is an {@code IOException}), or the connection closed after an answer while
   * more requests were still being decoded. The aggregator reports the latter (a request cut
   * short, or an answer of its own that could not be written any more), and nothing after this
   * handler is left to take either: the connection closes, quietly. Anything else goes on.
   */
  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (plainHttp && (cause instanceof PrematureChannelClosureException
        || cause instanceof IOException)) {
      ctx.close();
      return;
    }
    ctx.fireExceptionCaught(cause);
  }

  private boolean isUpgrade(FullHttpRequest request) {
    return HttpRequests.undecodable(request) == null
        && HttpRequests.path(request).equals(webSocketPath)
        && request.headers().containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET,
            true);
  }

  private void handle(ChannelHandlerContext ctx, FullHttpRequest request) {
    if (!plainHttp) {
      plainHttp = true;
      while (ctx.pipeline().last() != this) {
        ctx.pipeline().removeLast(); // the WebSocket handlers, their Session included
      }
    }
    HttpHeaders answer = new DefaultHttpHeaders();
    boolean keepAlive = HttpUtil.isKeepAlive(request);
    if (!request.decoderResult().isSuccess()) {
      respond(ctx.channel(), false, answer, HttpResponseStatus.BAD_REQUEST, "");
      return;
    }
    String undecodable = HttpRequests.undecodable(request);
    if (undecodable != null) {
      badRequest(ctx.channel(), keepAlive, answer, undecodable);
      return;
    }
    String path = HttpRequests.path(request);
    if (!path.equals(SSE) && !path.equals(POLL) && !path.equals(ACK)) {
      respond(ctx.channel(), keepAlive, answer, HttpResponseStatus.NOT_FOUND, "");
      return;
    }
    HttpMethod method = request.method();
    if (method.equals(HttpMethod.OPTIONS)) {
      cors.addPreflightTo(request.headers(), answer);
      respond(ctx.channel(), keepAlive, answer, HttpResponseStatus.NO_CONTENT, "");
      return;
    }
    cors.addTo(request.headers(), answer);
    if (path.equals(SSE) && method.equals(HttpMethod.GET)) {
      stream(ctx, request, answer);
    } else if (path.equals(POLL) && method.equals(HttpMethod.GET)) {
      poll(ctx, request, keepAlive, answer);
    } else if (path.equals(ACK) && method.equals(HttpMethod.POST)) {
      ack(ctx, request, keepAlive, answer);
    } else {
      respond(ctx.channel(), keepAlive, answer, HttpResponseStatus.NOT_FOUND, "");
    }
  }

  /** {@code GET /sse}: the rest of the connection is the event stream of a new session. */
  private void stream(ChannelHandlerContext ctx, FullHttpRequest request, HttpHeaders answer) {
    Auth auth;
    try {
      auth = Auth.newBuilder()
          .setToken(HttpRequests.token(request))
          .setLastSeq(HttpRequests.lastSeq(request))
          .setStreamEpoch(HttpRequests.number(request, "stream_epoch", 0, Long.MAX_VALUE))
          .build();
    } catch (IllegalArgumentException e) {
      badRequest(ctx.channel(), HttpUtil.isKeepAlive(request), answer, e.getMessage());
      return;
    }
    streaming = true;
    HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    head.headers()
        .add(answer)
        .set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream")
        .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE)
        // The stream's end is the session's end, and the connection closes with it: a client
        // must not put it back in its pool for the next request.
        .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    HttpUtil.setTransferEncodingChunked(head, true);
    ctx.writeAndFlush(head, ctx.voidPromise());
    ctx.pipeline().addLast("sse", new SseEncoder(context.heartbeat()));
    ctx.pipeline().addLast("session", new SessionHandler(new Session(context, false)));
    ctx.fireChannelActive(); // the new Session's start: the connection is active already
    ctx.fireChannelRead(ClientFrame.newBuilder().setAuth(auth).build());
  }

  /** {@code GET /poll}: answered by the device's long-poll session, now or later. */
  private void poll(ChannelHandlerContext ctx, FullHttpRequest request, boolean keepAlive,
      HttpHeaders answer) {
    String token = HttpRequests.token(request);
    Identity device = verify(ctx.channel(), token, keepAlive, answer);
    if (device == null) {
      return;
    }
    PollSession.Poll poll;
    try {
      long timeout = Math.min(MAX_POLL_TIMEOUT_MILLIS,
          HttpRequests.number(request, "timeout_ms", DEFAULT_POLL_TIMEOUT_MILLIS, Long.MAX_VALUE));
      Channel client = ctx.channel();
      poll = new PollSession.Poll(token,
          HttpRequests.number(request, "after", 0, Long.MAX_VALUE),
          HttpRequests.number(request, "stream_epoch", 0, Long.MAX_VALUE),
          timeout, client,
          frames -> respond(client, keepAlive, answer, HttpResponseStatus.OK,
              JsonFrames.frames(frames)));
    } catch (IllegalArgumentException e) {
      badRequest(ctx.channel(), keepAlive, answer, e.getMessage());
      return;
    }
    polls.poll(device, poll);
  }

  /** {@code POST /ack}: the Ack goes to the device's session on this node, whatever its transport. */
  private void ack(ChannelHandlerContext ctx, FullHttpRequest request, boolean keepAlive,
      HttpHeaders answer) {
    Identity device = verify(ctx.channel(), HttpRequests.token(request), keepAlive, answer);
    if (device == null) {
      return;
    }
    Ack ack;
    try {
      ack = JsonFrames.parseAck(request.content().toString(StandardCharsets.UTF_8));
    } catch (IllegalArgumentException e) {
      badRequest(ctx.channel(), keepAlive, answer, e.getMessage());
      return;
    }
    Session session = context.registry().find(device.userId(), device.deviceId());
    if (session == null) {
      respond(ctx.channel(), keepAlive, answer, HttpResponseStatus.NOT_FOUND,
          JsonFrames.error(Error.Code.UNEXPECTED_FRAME, "no session of " + device.userId() + "/"
              + device.deviceId() + " on this edge; connect again"));
      return;
    }
    session.receive(ClientFrame.newBuilder().setAck(ack).build());
    respond(ctx.channel(), keepAlive, answer, HttpResponseStatus.NO_CONTENT, "");
  }

  /** The token's device, or null once a 401 with the AuthError is on its way. */
  private Identity verify(Channel channel, String token, boolean keepAlive, HttpHeaders answer) {
    try {
      return context.verifier().verify(token).identity();
    } catch (AuthenticationException e) {
      respond(channel, keepAlive, answer, HttpResponseStatus.UNAUTHORIZED,
          JsonFrames.authError(e.code(), e.getMessage()));
      return null;
    }
  }

  private static void badRequest(Channel channel, boolean keepAlive, HttpHeaders answer,
      String reason) {
    respond(channel, keepAlive, answer, HttpResponseStatus.BAD_REQUEST,
        JsonFrames.error(Error.Code.MALFORMED_FRAME, reason));
  }

  /** Writes a whole answer, JSON unless empty; closes the connection after it unless kept alive. */
  private static void respond(Channel channel, boolean keepAlive, HttpHeaders headers,
      HttpResponseStatus status, String json) {
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
        ByteBufUtil.writeUtf8(channel.alloc(), json));
    response.headers().add(headers).set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE);
    if (!json.isEmpty()) {
      response.headers().set(HttpHeaderNames.CONTENT_TYPE, JSON);
    }
    HttpUtil.setContentLength(response, response.content().readableBytes());
    HttpUtil.setKeepAlive(response, keepAlive);
    ChannelFuture written = channel.writeAndFlush(response);
    if (!keepAlive) {
      written.addListener(ChannelFutureListener.CLOSE);
    }
  }
}
