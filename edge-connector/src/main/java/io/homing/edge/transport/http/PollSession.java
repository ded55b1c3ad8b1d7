package io.homing.edge.transport.http;

import io.homing.api.v1.Ack;
import io.homing.api.v1.Auth;
import io.homing.api.v1.ClientFrame;
import io.homing.api.v1.Error;
import io.homing.api.v1.Ping;
import io.homing.api.v1.ServerFrame;
import io.homing.edge.auth.Identity;
import io.homing.edge.session.Session;
import io.homing.edge.session.SessionHandler;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One device's long-poll session: a normal {@link Session} on a {@link PollChannel}, whose frames
 * wait in a {@link PollBuffer} for the client's next poll. A poll is the client's frames: a Ping
 * (so a poll keeps the session from the idle timeout, and the Pong is dropped) and, once AuthOk
 * went out, an {@code Ack{after}}. It is answered at once when the buffer holds a frame after its
 * {@code after}, else when one arrives, else with none after its timeout; a newer poll answers a
 * waiting one with none. Pushes beyond the buffer's capacity end the session with ACK_TIMEOUT.
 * Once the session closed, the next poll gets what is left and the one after starts a new session.
 *
 * <p>Everything runs on the poll channel's event loop; {@link #poll} may be called from any thread.
 */
final class PollSession {
  /** Core's default in-flight window: as many pushes as core sends before the client acks. */
  static final int MAX_BUFFERED = 1000;

  private static final ClientFrame PING =
      ClientFrame.newBuilder().setPing(Ping.getDefaultInstance()).build();

  /** A client's poll; {@code reply} writes the answer to its HTTP connection, on any thread. */
  record Poll(String token, long after, long streamEpoch, long timeoutMillis, Channel client,
      Consumer<List<ServerFrame>> reply) {}

  private record Waiter(Poll poll, ScheduledFuture<?> timeout) {}

  private final PollSessions owner;
  private final Identity key;
  private final PollChannel channel;
  private final Session session;
  private final Duration keepDead;
  private final PollBuffer buffer = new PollBuffer(MAX_BUFFERED);
  private Waiter waiter;
  private boolean closed;

  PollSession(PollSessions owner, Identity key, PollChannel channel, Session session,
      Duration keepDead) {
    this.owner = owner;
    this.key = key;
    this.channel = channel;
    this.session = session;
    this.keepDead = keepDead;
  }

  /** Registers the channel on {@code loop} and authenticates the session as the first poll says. */
  void start(EventLoop loop, Poll first) {
    channel.pipeline().addLast("poll-sink", new Sink());
    channel.pipeline().addLast("session", new SessionHandler(session));
    channel.closeFuture().addListener(f -> onClosed());
    loop.register(channel);
    ClientFrame auth = ClientFrame.newBuilder()
        .setAuth(Auth.newBuilder()
            .setToken(first.token())
            .setLastSeq(first.after())
            .setStreamEpoch(first.streamEpoch()))
        .build();
    // After the registration (queued first, or done already on this loop): Session is active.
    loop.execute(() -> channel.pipeline().fireChannelRead(auth));
  }

  void poll(Poll poll) {
    channel.eventLoop().execute(() -> onPoll(poll));
  }

  private void onPoll(Poll poll) {
    if (waiter != null) {
      answer(List.of());
    }
    long after = poll.after();
    if (!closed) {
      channel.pipeline().fireChannelRead(PING);
      if (after > 0 && session.isOpen()) {
        channel.pipeline().fireChannelRead(
            ClientFrame.newBuilder().setAck(Ack.newBuilder().setSeq(after)).build());
      }
    }
    buffer.ack(after);
    if (buffer.hasFramesAfter(after)) {
      List<ServerFrame> frames = buffer.take(after);
      if (closed || buffer.ended()) {
        owner.remove(key, this);
      }
      poll.reply().accept(frames);
      return;
    }
    if (closed) {
      owner.remove(key, this);
      owner.poll(key, poll); // nothing left of this one: a new session
      return;
    }
    if (poll.timeoutMillis() == 0) {
      poll.reply().accept(List.of());
      return;
    }
    Waiter w = new Waiter(poll, channel.eventLoop().schedule(() -> {
      if (waiter != null && waiter.poll() == poll) {
        answer(List.of());
      }
    }, poll.timeoutMillis(), TimeUnit.MILLISECONDS));
    waiter = w;
    poll.client().closeFuture().addListener(f -> channel.eventLoop().execute(() -> {
      if (waiter == w) {
        waiter = null;
        w.timeout().cancel(false);
      }
    }));
  }

  private void answer(List<ServerFrame> frames) {
    Waiter w = waiter;
    waiter = null;
    w.timeout().cancel(false);
    w.poll().reply().accept(frames);
  }

  private void onFrame(ServerFrame frame) {
    if (!buffer.add(frame)) {
      session.closeWith(Error.Code.ACK_TIMEOUT, "more than " + MAX_BUFFERED
          + " pushes not polled; poll again after the last seq held");
      return;
    }
    if (waiter != null && buffer.hasFramesAfter(waiter.poll().after())) {
      if (buffer.ended()) {
        owner.remove(key, this);
      }
      answer(buffer.take(waiter.poll().after()));
    }
  }

  private void onClosed() {
    closed = true;
    if (waiter != null) {
      owner.remove(key, this);
      answer(buffer.take(waiter.poll().after()));
      return;
    }
    channel.eventLoop().schedule(() -> owner.remove(key, this), keepDead.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  /** The end of the poll channel's pipeline: every frame the session writes lands here. */
  private final class Sink extends ChannelOutboundHandlerAdapter {
    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
      if (msg instanceof ServerFrame frame) {
        onFrame(frame);
        promise.trySuccess();
        return;
      }
      ctx.write(msg, promise);
    }
  }
}
