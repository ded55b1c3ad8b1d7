package io.homing.client;

import io.homing.api.v1.Ack;
import io.homing.api.v1.Auth;
import io.homing.api.v1.AuthOk;
import io.homing.api.v1.ClientFrame;
import io.homing.api.v1.Error;
import io.homing.api.v1.Ping;
import io.homing.api.v1.Push;
import io.homing.api.v1.PushTarget;
import io.homing.api.v1.ServerFrame;
import io.homing.api.v1.SetPushTarget;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One session with an edge, over any transport its URI names — {@code ws://host:port/ws} and
 * {@code wss://…} (WebSocket), {@code tcp://host:port} and {@code tls://host:port} (raw TCP,
 * varint32-delimited protobuf frames) — the session itself the same on all: authenticates, hands each pushed message to the listener
 * once and in seq order (a seq at or below the last delivered is dropped as a redelivery), and
 * acks cumulatively after the listener returned. A push that says the server sent something this
 * connection never got is a gap: the connection closes rather than skip it, and {@link #closed()}
 * says so.
 *
 * <p>Reconnecting is the caller's — {@link HomingClient} does it — with {@link #lastDelivered()}
 * as the new connection's {@code lastSeq}, to resume where this one stopped.
 */
public final class HomingConnection implements AutoCloseable {
  /** The largest frame taken from a server. */
  static final int MAX_FRAME_BYTES = 16 << 20;
  /**
   * Automatic acks go out at most once per this many milliseconds, each for everything delivered
   * so far (acks are cumulative): one per message would spend the connection's frame rate.
   */
  static final long ACK_INTERVAL_MILLIS = 10;

  private final CompletableFuture<AuthOk> authenticated = new CompletableFuture<>();
  private final CompletableFuture<String> closed = new CompletableFuture<>();
  private final EventLoopGroup group;
  private final boolean ownGroup;
  private final PushListener listener;
  private final PushListener pushObserver;
  private final boolean autoAck;
  private volatile long lastDelivered;
  private volatile long streamEpoch;
  private volatile Error lastError;
  /** Why the client ended the connection (a gap, a failed TLS handshake), or null. */
  private volatile String failure;
  private final AtomicBoolean closing = new AtomicBoolean();
  private final AtomicLong pushRequests = new AtomicLong();
  private final Map<String, CompletableFuture<Void>> pendingPushTargets =
      new ConcurrentHashMap<>();
  private Channel channel;

  private HomingConnection(Builder builder) {
    this.listener = builder.listener;
    this.pushObserver = builder.pushObserver;
    this.autoAck = builder.autoAck;
    this.lastDelivered = builder.lastSeq;
    this.streamEpoch = builder.streamEpoch;
    this.ownGroup = builder.group == null;
    this.group =
        ownGroup ? new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory()) : builder.group;
  }

  public static Builder builder(URI uri, String token) {
    return new Builder(uri, token);
  }

  /** Completes with AuthOk, or fails with {@link AuthRefusedException} or a connect error. */
  public CompletableFuture<AuthOk> authenticated() {
    return authenticated;
  }

  /** Completes when the connection closed, with the reason as far as the server gave one. */
  public CompletableFuture<String> closed() {
    return closed;
  }

  /**
   * The highest seq handed to the listener; before that, the lastSeq connected with, replaced by
   * AuthOk's {@code resume_after} (where the server's stream resumes for this device).
   */
  public long lastDelivered() {
    return lastDelivered;
  }

  /** The stream epoch of {@link #lastDelivered()}: AuthOk's, or the one connected with. */
  public long streamEpoch() {
    return streamEpoch;
  }

  /** The last Error frame the server sent, or null. */
  public Error lastError() {
    return lastError;
  }

  /**
   * Tells the server this device holds every message up to {@code seq}. Unless the connection
   * was built with {@code autoAck(false)}, this is done for the messages the listener returned
   * from, at most once per {@value #ACK_INTERVAL_MILLIS} ms; a caller acking by hand should
   * coalesce as well, as the server closes a connection over its frame rate ({@code
   * RATE_LIMITED}).
   */
  public void ack(long seq) {
    channel.writeAndFlush(ClientFrame.newBuilder().setAck(Ack.newBuilder().setSeq(seq)).build());
  }

  /**
   * Registers where this device is notified while it is not connected ({@code null}: nowhere);
   * completes once the server has it in Kafka, or exceptionally with a
   * {@link PushTargetRefusedException} saying why it did not take it (send it again after an
   * {@code UNAVAILABLE} or {@code RATE_LIMITED}), or with an {@link IllegalStateException} when
   * the connection closed first. Call after {@link #authenticated()} completed.
   */
  public CompletableFuture<Void> setPushTarget(PushTarget target) {
    String requestId = "push-" + pushRequests.incrementAndGet();
    CompletableFuture<Void> answer = new CompletableFuture<>();
    pendingPushTargets.put(requestId, answer);
    SetPushTarget.Builder set = SetPushTarget.newBuilder().setRequestId(requestId);
    if (target != null) {
      set.setTarget(target);
    }
    channel.writeAndFlush(ClientFrame.newBuilder().setSetPushTarget(set).build())
        .addListener(written -> {
          if (!written.isSuccess()) {
            pendingPushTargets.remove(requestId);
            answer.completeExceptionally(written.cause());
          }
        });
    return answer;
  }

  /** Sends a Ping; the server answers Pong. */
  public void ping(long nonce) {
    channel.writeAndFlush(
        ClientFrame.newBuilder().setPing(Ping.newBuilder().setNonce(nonce)).build());
  }

  /** Closes the connection and, if it owns one, its event loop. Idempotent. */
  @Override
  public void close() {
    if (!closing.compareAndSet(false, true)) {
      return;
    }
    if (channel != null) {
      channel.close().syncUninterruptibly();
    }
    if (ownGroup) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  private HomingConnection connect(URI uri, ClientTransport transport, SslContext tls,
      String token, InetAddress localAddress) {
    ClientFrame auth =
        ClientFrame.newBuilder()
            .setAuth(Auth.newBuilder().setToken(token).setLastSeq(lastDelivered)
                .setStreamEpoch(streamEpoch))
            .build();
    int port = transport.port();
    Bootstrap bootstrap =
        new Bootstrap()
            .group(group)
            .channel(NioSocketChannel.class)
            .option(ChannelOption.TCP_NODELAY, true)
            .handler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    if (tls != null) {
                      // The host names the server for SNI and for the certificate check.
                      ch.pipeline().addLast(tls.newHandler(ch.alloc(), uri.getHost(), port));
                    }
                    transport.addHandlers(ch.pipeline());
                    ch.pipeline().addLast(new SessionHandler(auth));
                  }
                });
    var future =
        localAddress == null
            ? bootstrap.connect(uri.getHost(), port)
            : bootstrap.connect(
                new InetSocketAddress(uri.getHost(), port), new InetSocketAddress(localAddress, 0));
    channel = future.channel();
    future.addListener(
        f -> {
          if (!f.isSuccess()) {
            authenticated.completeExceptionally(f.cause());
            closed.complete("connect failed: " + f.cause());
          }
        });
    return this;
  }

  private final class SessionHandler extends SimpleChannelInboundHandler<ServerFrame> {
    private final ClientFrame auth;
    private ScheduledFuture<?> heartbeat;
    /** The highest seq pushed on this connection; -1 before the first push. */
    private long seenOnConnection = -1;
    /** The automatic ack waiting for its interval, if any, and when the last one went out. */
    private ScheduledFuture<?> ackFlush;
    private long lastAckNanos = System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(
        ACK_INTERVAL_MILLIS);

    SessionHandler(ClientFrame auth) {
      this.auth = auth;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
      if (event == ClientTransport.READY) {
        ctx.writeAndFlush(auth);
      } else if (event instanceof SslHandshakeCompletionEvent tls && !tls.isSuccess()) {
        failure = "TLS handshake failed: " + tls.cause();
        authenticated.completeExceptionally(tls.cause());
      }
      super.userEventTriggered(ctx, event);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, ServerFrame frame) {
      switch (frame.getKindCase()) {
        case AUTH_OK -> {
          AuthOk ok = frame.getAuthOk();
          // The server's view wins: a client ahead of the stream, or on an older one, would
          // otherwise drop the next messages as already delivered.
          lastDelivered = ok.getResumeAfter();
          streamEpoch = ok.getStreamEpoch();
          startHeartbeat(ctx, ok.getHeartbeatSeconds());
          authenticated.complete(ok);
        }
        case AUTH_ERROR ->
            authenticated.completeExceptionally(new AuthRefusedException(frame.getAuthError()));
        case PUSH -> onPush(ctx, frame.getPush());
        case ERROR -> lastError = frame.getError();
        case PUSH_TARGET_SET -> {
          CompletableFuture<Void> answer =
              pendingPushTargets.remove(frame.getPushTargetSet().getRequestId());
          if (answer != null) {
            answer.complete(null);
          }
        }
        case PUSH_TARGET_ERROR -> {
          CompletableFuture<Void> answer =
              pendingPushTargets.remove(frame.getPushTargetError().getRequestId());
          if (answer != null) {
            answer.completeExceptionally(
                new PushTargetRefusedException(frame.getPushTargetError()));
          }
        }
        default -> { }
      }
    }

    /**
     * Delivers a push once and in order. The first push of the connection sets where the server
     * starts ({@code prev_seq}: what this device acked before may be skipped); after that a
     * {@code prev_seq} beyond the highest seq seen here means a push went missing — never skip
     * it: close, and the next connection resumes after {@link #lastDelivered}.
     */
    private void onPush(ChannelHandlerContext ctx, Push push) {
      long seq = push.getSeq();
      pushObserver.onMessage(seq, push.getMessage());
      if (seenOnConnection >= 0 && push.getPrevSeq() > seenOnConnection) {
        failure = "gap: got seq " + seq + " after " + push.getPrevSeq() + ", but only "
            + seenOnConnection + " arrived";
        ctx.close();
        return;
      }
      seenOnConnection = Math.max(seenOnConnection, seq);
      if (seq <= lastDelivered) {
        return; // a resend
      }
      listener.onMessage(seq, push.getMessage());
      lastDelivered = seq;
      if (autoAck) {
        autoAck(ctx);
      }
    }

    /** Acks what was delivered now, or once the interval since the last ack passed. */
    private void autoAck(ChannelHandlerContext ctx) {
      if (ackFlush != null) {
        return; // the ack scheduled takes this one along
      }
      long wait = lastAckNanos + TimeUnit.MILLISECONDS.toNanos(ACK_INTERVAL_MILLIS)
          - System.nanoTime();
      if (wait <= 0) {
        flushAck();
      } else {
        ackFlush = ctx.executor().schedule(this::flushAck, wait, TimeUnit.NANOSECONDS);
      }
    }

    private void flushAck() {
      ackFlush = null;
      lastAckNanos = System.nanoTime();
      ack(lastDelivered);
    }

    private void startHeartbeat(ChannelHandlerContext ctx, int seconds) {
      if (seconds > 0) {
        heartbeat =
            ctx.executor()
                .scheduleAtFixedRate(
                    () -> ctx.writeAndFlush(
                        ClientFrame.newBuilder()
                            .setPing(Ping.newBuilder().setNonce(System.nanoTime()))
                            .build()),
                    seconds,
                    seconds,
                    TimeUnit.SECONDS);
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
      if (heartbeat != null) {
        heartbeat.cancel(false);
      }
      if (ackFlush != null) {
        ackFlush.cancel(false); // the next connection resumes after lastDelivered anyway
      }
      String reason = failure != null ? failure
          : lastError != null ? lastError.getCode() + ": " + lastError.getMessage()
          : "connection closed";
      authenticated.completeExceptionally(new IllegalStateException(reason));
      pendingPushTargets.values().forEach(answer -> answer.completeExceptionally(
          new IllegalStateException("connection closed before the answer: " + reason)));
      pendingPushTargets.clear();
      closed.complete(reason);
      super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      // A codec's or TLS's failure comes wrapped; the cause says what went wrong.
      Throwable error = cause instanceof DecoderException && cause.getCause() != null
          ? cause.getCause() : cause;
      if (failure == null) {
        failure = error.toString();
      }
      authenticated.completeExceptionally(error);
      ctx.close();
    }
  }

  /** Options of a connection. */
  public static final class Builder {
    private final URI uri;
    private final String token;
    private long lastSeq;
    private long streamEpoch;
    private boolean json;
    private boolean autoAck = true;
    private PushListener listener = (seq, message) -> { };
    private PushListener pushObserver = (seq, message) -> { };
    private EventLoopGroup group;
    private InetAddress localAddress;
    private Path trustedCertificates;
    private SslContext tls;

    private Builder(URI uri, String token) {
      this.uri = Objects.requireNonNull(uri, "uri");
      this.token = Objects.requireNonNull(token, "token");
    }

    /**
     * The certificates (PEM, e.g. a CA's) a {@code wss://} or {@code tls://} server's certificate
     * must chain to; the default is the JDK's trust store. Either way the server's name must match
     * the URI's host. Ignored for {@code ws://} and {@code tcp://}.
     */
    public Builder trustedCertificates(Path pemFile) {
      this.trustedCertificates = Objects.requireNonNull(pemFile, "pemFile");
      return this;
    }

    /** A TLS context built once for many connections (by {@link HomingClient}). */
    Builder tls(SslContext tls) {
      this.tls = tls;
      return this;
    }

    /** The highest seq this device already holds; the default is 0 (none). */
    public Builder lastSeq(long lastSeq) {
      if (lastSeq < 0) {
        throw new IllegalArgumentException("lastSeq: " + lastSeq + " (expected: >= 0)");
      }
      this.lastSeq = lastSeq;
      return this;
    }

    /** The stream epoch {@link #lastSeq} belongs to (AuthOk's); the default is 0 (unknown). */
    public Builder streamEpoch(long streamEpoch) {
      this.streamEpoch = streamEpoch;
      return this;
    }

    /**
     * Over WebSocket, speak JSON in text frames instead of protobuf in binary frames; the default
     * is false. Raw TCP always carries protobuf.
     */
    public Builder json(boolean json) {
      this.json = json;
      return this;
    }

    /** Ack the messages the listener returned from, coalesced; the default is true. */
    public Builder autoAck(boolean autoAck) {
      this.autoAck = autoAck;
      return this;
    }

    /** Who receives the messages; the default drops them (they are still acked). */
    public Builder listener(PushListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * Also told of every Push frame as it arrives, on the event loop: redeliveries included,
     * before seqs at or below the last delivered are dropped and before the gap check. For
     * diagnostics and tests, e.g. counting seq conflicts; the default is none.
     */
    public Builder pushObserver(PushListener observer) {
      this.pushObserver = Objects.requireNonNull(observer, "observer");
      return this;
    }

    /** An event loop to share with other connections; the default is one of its own. */
    public Builder eventLoopGroup(EventLoopGroup group) {
      this.group = group;
      return this;
    }

    /**
     * The local address to connect from, e.g. one of 127.0.0.0/8 to spread many connections over
     * more ephemeral ports; the default is the system's choice.
     */
    public Builder localAddress(InetAddress localAddress) {
      this.localAddress = localAddress;
      return this;
    }

    /**
     * Connects and authenticates; see {@link HomingConnection#authenticated()}. Throws {@link
     * IllegalArgumentException} for a URI that names no transport, or unreadable certificates.
     */
    public HomingConnection connect() {
      ClientTransport transport = ClientTransport.of(uri, json, MAX_FRAME_BYTES);
      SslContext context = !transport.secure() ? null
          : tls != null ? tls : ClientTls.context(trustedCertificates);
      return new HomingConnection(this).connect(uri, transport, context, token, localAddress);
    }
  }
}
