package io.homing.edge.transport;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.util.concurrent.PromiseNotifier;
import java.util.concurrent.TimeUnit;

/**
 * A close under way that waits until the client closed its side, or the linger time passed:
 * closing at once while the client's bytes are still arriving (an oversized frame, typically)
 * resets the connection, and a reset can make the client lose the frame that says why. Made only
 * when a connection starts to close, so idle connections do not carry it.
 *
 * <p>Runs on the channel's event loop.
 */
public final class LingeringClose {
  /** How long a closing connection waits for the client to close before it drops the socket. */
  public static final long LINGER_MILLIS = 2000;

  private final ChannelHandlerContext ctx;
  private final ChannelPromise promise;
  private boolean done;

  /** @param ctx the context of the handler that holds the close back */
  public LingeringClose(ChannelHandlerContext ctx, ChannelPromise promise) {
    this.ctx = ctx;
    this.promise = promise.unvoid();
  }

  /** Another close of the same connection: completes with this one. */
  public void join(ChannelPromise other) {
    promise.addListener(new PromiseNotifier<>(other.unvoid()));
  }

  /** Keeps reading, so that the client's close is seen, and closes once the linger time passed. */
  public void linger() {
    ctx.channel().config().setAutoRead(true);
    ctx.read();
    ctx.executor().schedule(this::finish, LINGER_MILLIS, TimeUnit.MILLISECONDS);
  }

  /** Closes the connection now: the client closed, answered, or had its time. Idempotent. */
  public void finish() {
    if (done) {
      return;
    }
    done = true;
    ctx.close(promise);
  }
}
