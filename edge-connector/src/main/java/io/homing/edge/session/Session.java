package io.homing.edge.session;

import io.homing.api.Limits;
import io.homing.api.PushTargets;
import io.homing.api.v1.Auth;
import io.homing.api.v1.AuthError;
import io.homing.api.v1.AuthOk;
import io.homing.api.v1.ClientFrame;
import io.homing.api.v1.Error;
import io.homing.api.v1.Message;
import io.homing.api.v1.Pong;
import io.homing.api.v1.Publish;
import io.homing.api.v1.PublishError;
import io.homing.api.v1.Push;
import io.homing.api.v1.PushTarget;
import io.homing.api.v1.PushTargetError;
import io.homing.api.v1.ServerFrame;
import io.homing.api.v1.SetPushTarget;
import io.homing.api.v1.StreamOpened;
import io.homing.edge.auth.AuthenticationException;
import io.homing.edge.auth.VerifiedToken;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import java.net.InetAddress;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection and its protocol, whatever the transport: the transport's codec turns its
 * frames into {@link ClientFrame}s it hands to {@link #read} and the {@link ServerFrame}s this
 * writes to the channel into its frames. A transport is a codec and a pipeline, nothing more.
 *
 * <p>Auth must come first and within the auth timeout. Once the token verifies, the connection is
 * registered here and in presence and core learns of it through a Connected event; the client gets
 * AuthOk when core answers with the stream's state ({@link #opened}), so that AuthOk can say where
 * the user's stream stands. Acks become Ack events; pings are answered; Publish frames go to the
 * topic {@code inbound}; a SetPushTarget becomes a PushTargetChanged event. The node's {@link SessionSweeper} closes a connection silent past the idle
 * timeout and one whose token expired. On close, presence and the registry forget this connection
 * (only if still current) and a Disconnected event is published.
 *
 * <p>The connection's state and the registry's entry in one object, and no pipeline handler of its
 * own (see {@link Connection}), to keep idle connections lean. Frames are handled on the channel's
 * event loop; {@link #opened}, {@link #push}, {@link #receive} and {@link #closeWith} may be called
 * from any thread.
 */
public final class Session implements Connection {
  private static final Logger log = LoggerFactory.getLogger(Session.class);
  /** Acks of one connection within this many milliseconds go to Kafka as one event. */
  static final long ACK_COALESCE_MILLIS = 10;
  /**
   * How long a connection waits for core's StreamOpened before it is announced again: a batch
   * lost with a broken gRPC stream, or a stream not opened while this node looked dead, would
   * otherwise leave it without AuthOk until the idle timeout.
   */
  static final int REANNOUNCE_TICKS = 10_000;
  /** Ticks are milliseconds; see {@link #ticks}. */
  private static final long NANOS_PER_TICK = 1_000_000;

  /** Publishes of one connection Kafka has not acked yet, beyond which reading pauses. */
  static final int MAX_PUBLISHES_IN_FLIGHT = 256;

  private static final int NEW = 0;
  private static final int AUTHENTICATING = 1;
  /** Token verified, registered, Connected published: waiting for core's StreamOpened. */
  private static final int AWAITING_STREAM = 2;
  /** AuthOk sent: pushes go to the client. */
  private static final int OPEN = 3;

  private static final AtomicIntegerFieldUpdater<Session> STATE =
      AtomicIntegerFieldUpdater.newUpdater(Session.class, "state");

  private final SessionContext context;
  private final boolean readsKeepAlive;
  private Channel channel;
  private volatile int state = NEW;
  /** Null until authenticated; the strings the token came with, held nowhere else on the node. */
  private String userId;
  private String deviceId;
  /** This connection's number on the node, 0 until authenticated; see {@link #connectionId}. */
  private long connection;
  /** When the token expires, in Unix seconds (unsigned: good until 2106); 0 until authenticated. */
  private int expiresAt;
  /**
   * The {@link #ticks} of the last frame from the client and of the last Connected event (0: not
   * yet): ints rather than longs, one of the ways an idle connection is kept lean.
   */
  private volatile int lastReadTicks;
  private volatile int announcedTicks;
  private volatile long lastAcked;
  private volatile long streamEpoch;
  /**
   * The highest seq written to the client on this connection, starting from the user's last seq
   * when core opened the stream: a seq above it is a live push, one at or below it backlog or a
   * resend ({@link DeliveryLatency}). Event loop only.
   */
  private long writtenThrough;
  /** The highest ack published to Kafka for this connection. */
  private long publishedAck;
  private ScheduledFuture<?> ackFlush;
  private ScheduledFuture<?> authTimeout;
  private int publishesInFlight;
  /**
   * When the connection's next frame is due at its sustained rate, in {@link System#nanoTime}: a
   * frame may come early by up to the burst (GCRA, one long rather than a token bucket object).
   */
  private long frameDue;
  /** Over a limit and closing: its further frames are dropped. */
  private boolean closing;
  /** Where the connection comes from while it holds a place in the node's {@link Admission}. */
  private InetAddress admittedFrom;

  /**
   * @param readsKeepAlive whether frames from the client keep the connection alive (the idle
   *     timeout applies); false for a transport the client cannot send on, such as SSE
   */
  public Session(SessionContext context, boolean readsKeepAlive) {
    this.context = context;
    this.readsKeepAlive = readsKeepAlive;
  }

  /**
   * Makes the connection hold the place it was given in the node's {@link Admission} until it
   * authenticates or ends.
   */
  public Session admittedFrom(InetAddress address) {
    admittedFrom = address;
    return this;
  }

  /** Null until authenticated. */
  public String userId() {
    return userId;
  }

  /** Null until authenticated. */
  public String deviceId() {
    return deviceId;
  }

  /**
   * This connection's id, unique on the node across its restarts. Made on each call, so that an
   * idle connection does not hold it.
   */
  public String connectionId() {
    return context.connectionId(connection);
  }

  /** Whether the id names this connection; makes nothing. */
  public boolean isConnection(String connectionId) {
    return connection != 0 && context.isConnectionId(connection, connectionId);
  }

  /** The highest seq the client acked on this connection, or the last seq it connected with. */
  public long lastAcked() {
    return lastAcked;
  }

  /** The stream epoch the client's seqs belong to: its Auth's, then the one core opened. */
  public long streamEpoch() {
    return streamEpoch;
  }

  /** Whether AuthOk went out: pushes reach the client. */
  public boolean isOpen() {
    return state == OPEN;
  }

  @Override
  public void start(Channel channel) {
    this.channel = channel;
    long now = System.nanoTime();
    lastReadTicks = ticks(now);
    frameDue = now;
    authTimeout =
        channel
            .eventLoop()
            .schedule(
                () -> refuse(AuthError.Code.AUTH_TIMEOUT, "no Auth within the auth timeout"),
                context.authTimeout().toMillis(),
                TimeUnit.MILLISECONDS);
  }

  @Override
  public void read(ClientFrame frame) {
    long now = System.nanoTime();
    lastReadTicks = ticks(now);
    if (closing || !withinFrameRate(now)) {
      return;
    }
    if (state == NEW && frame.getKindCase() != ClientFrame.KindCase.AUTH) {
      cancelAuthTimeout();
      refuse(AuthError.Code.AUTH_REQUIRED, "the first frame must be Auth, not "
          + frame.getKindCase());
      return;
    }
    switch (frame.getKindCase()) {
      case AUTH -> onAuth(frame.getAuth());
      case ACK -> onAck(frame.getAck().getSeq());
      case PING ->
          channel.writeAndFlush(
              ServerFrame.newBuilder()
                  .setPong(Pong.newBuilder().setNonce(frame.getPing().getNonce()))
                  .build());
      case PUBLISH -> onPublish(frame.getPublish());
      case SET_PUSH_TARGET -> onSetPushTarget(frame.getSetPushTarget());
      default -> closeWith(Error.Code.MALFORMED_FRAME, "empty or unknown frame");
    }
  }

  /** Takes the frame's place in the connection's rate; false, and closing, when it is over. */
  private boolean withinFrameRate(long now) {
    long due = frameDue - now < 0 ? now : frameDue;
    long next = due + context.frameIntervalNanos();
    if (next - now > context.frameToleranceNanos()) {
      EdgeLimits limits = context.limits();
      refuseOver(EdgeLimits.FRAMES, "more than " + limits.framesPerSecond()
          + " frames per second (a burst of " + limits.frameBurst() + ") on this connection");
      return false;
    }
    frameDue = next;
    return true;
  }

  /** Counts the limit, tells the client and closes; its frames from now on are dropped. */
  private void refuseOver(String limit, String what) {
    closing = true;
    context.rateLimited(limit);
    closeWith(Error.Code.RATE_LIMITED, what + ": reconnect after a back-off");
  }

  private void onAuth(Auth auth) {
    if (state != NEW) {
      closeWith(Error.Code.UNEXPECTED_FRAME, "already authenticated");
      return;
    }
    state = AUTHENTICATING;
    cancelAuthTimeout();
    VerifiedToken token;
    try {
      token = context.verifier().verify(auth.getToken());
    } catch (AuthenticationException e) {
      refuse(e.code(), e.getMessage());
      return;
    }
    leaveAdmission();
    userId = token.identity().userId();
    deviceId = token.identity().deviceId();
    expiresAt = (int) token.expiresAt().getEpochSecond();
    connection = context.nextConnection();
    String connectionId = connectionId();
    lastAcked = auth.getLastSeq();
    publishedAck = auth.getLastSeq();
    streamEpoch = auth.getStreamEpoch();
    Session replaced = context.registry().register(this);
    if (replaced == this) {
      int most = context.limits().connectionsPerUser();
      String user = userId;
      userId = null; // never registered: closed() has nothing to take back
      deviceId = null;
      refuseOver(EdgeLimits.CONNECTIONS_PER_USER, "user '" + user + "' holds " + most
          + " connections on this edge already, the most one user may");
      return;
    }
    if (replaced != null) {
      context.replaced("local");
      replaced.closeWith(Error.Code.REPLACED, "the same device connected again");
    }
    state = AWAITING_STREAM;
    context
        .presence()
        .register(userId, deviceId, connectionId)
        .whenComplete(
            (ok, error) -> {
              if (error != null) {
                // Presence is soft state: the Connected event still lets core drain the backlog.
                log.warn("cannot register presence of {}/{}: {}", userId, deviceId, error.toString());
              }
              channel.eventLoop().execute(() -> announce(auth));
            });
  }

  private void announce(Auth auth) {
    if (!channel.isActive()) {
      // Closed while presence was being written: take back what closed() could not.
      context.presence().unregister(userId, deviceId, connectionId());
      return;
    }
    announcedTicks = ticks(System.nanoTime());
    context.events().connected(userId, deviceId, connectionId(),
        auth.getLastSeq(), auth.getStreamEpoch());
  }

  /**
   * Core took this connection: tells the client where its stream stands with AuthOk, once. Pushes
   * core sends after it follow it on the connection. Any thread.
   */
  public void opened(StreamOpened stream) {
    if (!STATE.compareAndSet(this, AWAITING_STREAM, OPEN)) {
      return;
    }
    // On the event loop, ahead of the pushes core sends after this (its tasks run in order).
    channel.eventLoop().execute(() -> authOk(stream));
  }

  private void authOk(StreamOpened stream) {
    // What the device holds as core sees it: a client ahead of the stream, or on an older one,
    // must not announce its own last seq again (after a Redis loss), or it would skip messages.
    streamEpoch = stream.getStreamEpoch();
    lastAcked = stream.getCursor();
    publishedAck = stream.getCursor();
    writtenThrough = stream.getLastSeq();
    channel.writeAndFlush(
        ServerFrame.newBuilder()
            .setAuthOk(
                AuthOk.newBuilder()
                    .setUserId(userId)
                    .setDeviceId(deviceId)
                    .setNodeId(context.nodeId())
                    .setHeartbeatSeconds((int) context.heartbeat().toSeconds())
                    .setLastSeq(stream.getLastSeq())
                    .setStreamEpoch(stream.getStreamEpoch())
                    .setResumeAfter(stream.getCursor())
                    .setTokenExpiresAtMs(expiresAtMillis()))
            .build(),
        channel.voidPromise());
  }

  /**
   * Writes a Push frame. Returns false when the connection is closed or core has not opened its
   * stream yet, in which case the message stays queued in the store. Any thread.
   */
  public boolean push(long seq, long prevSeq, Message message) {
    if (state != OPEN || !channel.isActive()) {
      return false;
    }
    channel.writeAndFlush(
        ServerFrame.newBuilder()
            .setPush(Push.newBuilder().setSeq(seq).setPrevSeq(prevSeq).setMessage(message))
            .build(),
        PushWritten.of(channel, this, seq, message.getCreatedAtMs()));
    return true;
  }

  /**
   * The Push of {@code seq} reached the socket: records its delivery latency, as live when no
   * push of this connection wrote it or a later seq before. Event loop.
   */
  void written(long seq, long createdAtMs) {
    boolean live = seq > writtenThrough;
    if (live) {
      writtenThrough = seq;
    }
    context.deliveryLatency().record(live, createdAtMs);
  }

  /** The Push of a message failed to reach the socket: as a write with the void promise does. */
  void writeFailed(Throwable cause) {
    if (channel.isRegistered()) {
      channel.pipeline().fireExceptionCaught(cause);
    }
  }

  private void onAck(long seq) {
    if (state != OPEN) {
      closeWith(Error.Code.UNEXPECTED_FRAME, "Ack before AuthOk");
      return;
    }
    if (seq <= 0) {
      closeWith(Error.Code.MALFORMED_FRAME, "ack seq: " + seq + " (expected: > 0)");
      return;
    }
    if (seq > lastAcked) {
      lastAcked = seq;
    }
    if (ackFlush == null) {
      ackFlush = channel.eventLoop().schedule(this::flushAck, ACK_COALESCE_MILLIS,
          TimeUnit.MILLISECONDS);
    }
  }

  /**
   * Publishes the highest ack since the last one. A client acks every message; acks are
   * cumulative, so one event per connection per {@link #ACK_COALESCE_MILLIS} carries them all.
   */
  private void flushAck() {
    ackFlush = null;
    long seq = lastAcked;
    if (userId != null && seq > publishedAck) {
      publishedAck = seq;
      context.events().acked(userId, deviceId, connectionId(), seq);
    }
  }

  private void onPublish(Publish publish) {
    if (state != OPEN) {
      closeWith(Error.Code.UNEXPECTED_FRAME, "Publish before AuthOk");
      return;
    }
    String id = publish.getMessageId();
    if (!Limits.isValidId(id)) {
      channel.writeAndFlush(Frames.publishError(id, PublishError.Code.INVALID,
          "message_id must be " + Limits.ID_RULE));
      return;
    }
    if (!context.publishLimits().tryPublish(userId)) {
      context.rateLimited(EdgeLimits.PUBLISHES);
      channel.writeAndFlush(Frames.publishError(id, PublishError.Code.RATE_LIMITED,
          context.publishLimits().describe() + ": not written; publish it again after a back-off"));
      return;
    }
    if (++publishesInFlight == MAX_PUBLISHES_IN_FLIGHT) {
      channel.config().setAutoRead(false); // until Kafka acks some
    }
    context.uplink().publish(userId, deviceId, connectionId(), publish, error -> channel.eventLoop().execute(() -> {
      if (publishesInFlight-- == MAX_PUBLISHES_IN_FLIGHT) {
        channel.config().setAutoRead(true);
      }
      channel.writeAndFlush(error == null
          ? Frames.publishAck(id)
          : Frames.publishError(id, PublishError.Code.UNAVAILABLE,
              "not written to Kafka: " + error.getMessage()));
    }));
  }

  /**
   * Checks the device's new push target and writes it to Kafka, answering once Kafka has it. A
   * webhook URL must start with a prefix the node allows: the notifier calls it, so a client
   * could otherwise aim the notifier at any address.
   */
  private void onSetPushTarget(SetPushTarget set) {
    if (state != OPEN) {
      closeWith(Error.Code.UNEXPECTED_FRAME, "SetPushTarget before AuthOk");
      return;
    }
    String id = set.getRequestId();
    if (!Limits.isValidId(id)) {
      channel.writeAndFlush(Frames.pushTargetError(id, PushTargetError.Code.INVALID,
          "request_id must be " + Limits.ID_RULE));
      return;
    }
    PushTarget target = set.hasTarget() ? set.getTarget() : null;
    if (target != null) {
      String invalid = PushTargets.invalid(target);
      if (invalid != null) {
        channel.writeAndFlush(Frames.pushTargetError(id, PushTargetError.Code.INVALID, invalid));
        return;
      }
      if (target.hasWebhook()
          && !PushTargets.webhookAllowed(target.getWebhook().getUrl(),
              context.webhookPrefixes())) {
        channel.writeAndFlush(Frames.pushTargetError(id, PushTargetError.Code.NOT_ALLOWED,
            context.webhookPrefixes().isEmpty() ? "this node takes no webhook targets"
                : "a webhook URL must start with one of " + context.webhookPrefixes()));
        return;
      }
    }
    if (!context.publishLimits().tryPublish(userId)) { // each is a write to Kafka, like a Publish
      context.rateLimited(EdgeLimits.PUBLISHES);
      channel.writeAndFlush(Frames.pushTargetError(id, PushTargetError.Code.RATE_LIMITED,
          context.publishLimits().describe() + ": not taken; send it again after a back-off"));
      return;
    }
    context.uplink().pushTarget(userId, deviceId, connectionId(), target,
        error -> channel.eventLoop().execute(() -> channel.writeAndFlush(error == null
            ? Frames.pushTargetSet(id)
            : Frames.pushTargetError(id, PushTargetError.Code.UNAVAILABLE,
                "not written to Kafka: " + error.getMessage()))));
  }

  /**
   * Closes the connection if it has been silent past the idle timeout or its token expired, and
   * announces it again if core has not answered its Connected for a while; the sweeper calls it
   * about once a second. Any thread.
   */
  void sweep(long nowNanos, long nowMs, int idleTicks) {
    int now = ticks(nowNanos);
    int announced = announcedTicks;
    if (state == AWAITING_STREAM && announced != 0 && now - announced > REANNOUNCE_TICKS
        && channel.isActive()) {
      announcedTicks = now;
      context.events().connected(userId, deviceId, connectionId(),
          lastAcked, streamEpoch);
    }
    if (expiresAt != 0 && nowMs >= expiresAtMillis() + context.tokenLeewayMillis()) {
      closeWith(Error.Code.TOKEN_EXPIRED, "the token expired; reconnect with a fresh one");
    } else if (readsKeepAlive && now - lastReadTicks > idleTicks) {
      closeWith(Error.Code.IDLE_TIMEOUT, "no frame for " + context.idleTimeout());
    }
  }

  /**
   * A time in milliseconds that wraps around, as an int: differences between two ticks are right
   * as long as they are under 24 days, and 0 is never a tick, so that it can mean "not yet".
   */
  static int ticks(long nanoTime) {
    int ticks = (int) (nanoTime / NANOS_PER_TICK);
    return ticks == 0 ? 1 : ticks;
  }

  private long expiresAtMillis() {
    return Integer.toUnsignedLong(expiresAt) * 1000;
  }

  /**
   * Handles the frame as if the client had sent it on this connection, on its event loop: for a
   * transport whose client sends on other connections than the one it receives on (HTTP's {@code
   * POST /ack}, a long-poll). Dropped once the connection is closed. Any thread.
   */
  public void receive(ClientFrame frame) {
    channel.eventLoop().execute(() -> {
      if (channel.isActive()) {
        read(frame);
      }
    });
  }

  /** A connection that turned out to speak plain HTTP lets go of its Session before any Auth. */
  @Override
  public void abandon() {
    cancelAuthTimeout();
    leaveAdmission();
  }

  private void leaveAdmission() {
    if (admittedFrom != null) {
      context.admission().release(admittedFrom);
      admittedFrom = null;
    }
  }

  /** Cancels the auth timeout and lets go of its task, which an idle connection would keep. */
  private void cancelAuthTimeout() {
    if (authTimeout != null) {
      authTimeout.cancel(false);
      authTimeout = null;
    }
  }

  @Override
  public void closed() {
    cancelAuthTimeout();
    leaveAdmission();
    if (userId != null) {
      if (ackFlush != null) {
        ackFlush.cancel(false);
      }
      flushAck(); // before Disconnected, in the partition's order
      context.registry().unregister(this);
      String connectionId = connectionId();
      context.presence().unregister(userId, deviceId, connectionId);
      context.events().disconnected(userId, deviceId, connectionId);
    }
  }

  @Override
  public void failed(Throwable cause) {
    log.debug("closing {} after {}", channel, cause.toString());
    if (channel != null) {
      channel.close();
    }
  }

  /** Sends the error, then closes the connection; the future completes once it is closed. */
  public ChannelFuture closeWith(Error.Code code, String reason) {
    channel.writeAndFlush(Frames.error(code, reason)).addListener(ChannelFutureListener.CLOSE);
    return channel.closeFuture();
  }

  private void refuse(AuthError.Code code, String message) {
    context.authRefused(code);
    channel.writeAndFlush(Frames.authError(code, message)).addListener(ChannelFutureListener.CLOSE);
  }
}
