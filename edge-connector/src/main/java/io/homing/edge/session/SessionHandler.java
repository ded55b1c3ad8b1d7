package io.homing.edge.session;

import io.homing.api.v1.Auth;
import io.homing.api.v1.AuthError;
import io.homing.api.v1.AuthOk;
import io.homing.api.v1.ClientFrame;
import io.homing.api.v1.Error;
import io.homing.api.v1.Pong;
import io.homing.api.v1.ServerFrame;
import io.homing.edge.auth.AuthenticationException;
import io.homing.edge.auth.Identity;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.timeout.IdleStateEvent;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client protocol of one connection, independent of the transport: the transport's codec
 * turns its frames into {@link ClientFrame}s before this handler and {@link ServerFrame}s into its
 * frames after it.
 *
 * <p>Auth must come first and within the auth timeout; once the token verifies, the connection is
 * registered here and in presence, the client gets AuthOk, and core learns of it through a
 * Connected event. Acks become Ack events; pings are answered; a connection idle past the idle
 * timeout is closed. On close, presence and the registry forget this connection (only if still
 * current) and a Disconnected event is published.
 *
 * <p>Runs on the channel's event loop; never blocks it.
 */
public final class SessionHandler extends SimpleChannelInboundHandler<ClientFrame> {
  private static final Logger log = LoggerFactory.getLogger(SessionHandler.class);
  /** Acks of one connection within this many milliseconds go to Kafka as one event. */
  static final long ACK_COALESCE_MILLIS = 10;

  private final SessionContext context;
  private ScheduledFuture<?> authTimeout;
  private boolean authStarted;
  private Session session;
  /** The highest ack published to Kafka for this connection. */
  private long publishedAck;
  private ScheduledFuture<?> ackFlush;

  public SessionHandler(SessionContext context) {
    this.context = context;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    authTimeout =
        ctx.executor()
            .schedule(
                () -> refuse(ctx, AuthError.Code.AUTH_TIMEOUT, "no Auth within the auth timeout"),
                context.authTimeout().toMillis(),
                TimeUnit.MILLISECONDS);
    super.channelActive(ctx);
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, ClientFrame frame) {
    if (!authStarted && frame.getKindCase() != ClientFrame.KindCase.AUTH) {
      authTimeout.cancel(false);
      refuse(ctx, AuthError.Code.AUTH_REQUIRED, "the first frame must be Auth, not "
          + frame.getKindCase());
      return;
    }
    switch (frame.getKindCase()) {
      case AUTH -> onAuth(ctx, frame.getAuth());
      case ACK -> onAck(ctx, frame.getAck().getSeq());
      case PING ->
          ctx.writeAndFlush(
              ServerFrame.newBuilder()
                  .setPong(Pong.newBuilder().setNonce(frame.getPing().getNonce()))
                  .build());
      default -> closeWith(ctx, Error.Code.MALFORMED_FRAME, "empty or unknown frame");
    }
  }

  private void onAuth(ChannelHandlerContext ctx, Auth auth) {
    if (authStarted) {
      closeWith(ctx, Error.Code.UNEXPECTED_FRAME, "already authenticated");
      return;
    }
    authStarted = true;
    authTimeout.cancel(false);
    Identity identity;
    try {
      identity = context.verifier().verify(auth.getToken());
    } catch (AuthenticationException e) {
      refuse(ctx, e.code(), e.getMessage());
      return;
    }
    Session current = new Session(identity, context.nextConnectionId(), ctx.channel());
    current.acked(auth.getLastSeq());
    publishedAck = auth.getLastSeq();
    Session replaced = context.registry().register(current);
    if (replaced != null) {
      replaced.closeWith(Error.Code.REPLACED, "the same device connected again");
    }
    session = current;
    context
        .presence()
        .register(identity.userId(), identity.deviceId(), current.connectionId())
        .whenComplete(
            (ok, error) -> {
              if (error != null) {
                // Presence is soft state: the Connected event still lets core drain the backlog.
                log.warn("cannot register presence of {}: {}", identity, error.toString());
              }
              ctx.executor().execute(() -> authenticated(ctx, current, auth.getLastSeq()));
            });
  }

  private void authenticated(ChannelHandlerContext ctx, Session current, long lastSeq) {
    Identity identity = current.identity();
    if (!ctx.channel().isActive()) {
      // Closed while presence was being written: take back what channelInactive could not.
      context.presence().unregister(identity.userId(), identity.deviceId(), current.connectionId());
      return;
    }
    ctx.writeAndFlush(
        ServerFrame.newBuilder()
            .setAuthOk(
                AuthOk.newBuilder()
                    .setUserId(identity.userId())
                    .setDeviceId(identity.deviceId())
                    .setNodeId(context.nodeId())
                    .setHeartbeatSeconds((int) context.heartbeat().toSeconds()))
            .build());
    context
        .events()
        .connected(identity.userId(), identity.deviceId(), current.connectionId(), lastSeq);
  }

  private void onAck(ChannelHandlerContext ctx, long seq) {
    if (session == null) {
      closeWith(ctx, Error.Code.UNEXPECTED_FRAME, "Ack before AuthOk");
      return;
    }
    if (seq <= 0) {
      closeWith(ctx, Error.Code.MALFORMED_FRAME, "ack seq: " + seq + " (expected: > 0)");
      return;
    }
    session.acked(seq);
    if (ackFlush == null) {
      ackFlush = ctx.executor().schedule(this::flushAck, ACK_COALESCE_MILLIS,
          TimeUnit.MILLISECONDS);
    }
  }

  /**
   * Publishes the highest ack since the last one. A client acks every message; acks are
   * cumulative, so one event per connection per {@link #ACK_COALESCE_MILLIS} carries them all.
   */
  private void flushAck() {
    ackFlush = null;
    long seq = session == null ? 0 : session.lastAcked();
    if (seq > publishedAck) {
      publishedAck = seq;
      Identity identity = session.identity();
      context.events().acked(identity.userId(), identity.deviceId(), session.connectionId(), seq);
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
    if (event instanceof IdleStateEvent) {
      closeWith(ctx, Error.Code.IDLE_TIMEOUT, "no frame for " + context.idleTimeout());
      return;
    }
    super.userEventTriggered(ctx, event);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    if (authTimeout != null) {
      authTimeout.cancel(false);
    }
    if (session != null) {
      if (ackFlush != null) {
        ackFlush.cancel(false);
      }
      flushAck(); // before Disconnected, in the partition's order
      Identity identity = session.identity();
      context.registry().unregister(session);
      context.presence().unregister(identity.userId(), identity.deviceId(), session.connectionId());
      context.events().disconnected(identity.userId(), identity.deviceId(), session.connectionId());
      session = null;
    }
    super.channelInactive(ctx);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.debug("closing {} after {}", ctx.channel(), cause.toString());
    ctx.close();
  }

  private void refuse(ChannelHandlerContext ctx, AuthError.Code code, String message) {
    context.authRefused(code);
    ctx.writeAndFlush(Frames.authError(code, message)).addListener(ChannelFutureListener.CLOSE);
  }

  private static void closeWith(ChannelHandlerContext ctx, Error.Code code, String message) {
    ctx.writeAndFlush(Frames.error(code, message)).addListener(ChannelFutureListener.CLOSE);
  }
}
