package io.homing.edge.transport;

import io.netty.channel.embedded.EmbeddedChannel;
import java.util.concurrent.TimeUnit;

/** Connections on an {@link EmbeddedChannel}, ended as they end for real. */
public final class Connections {
  private Connections() {}

  /**
   * Ends the connection: the server closes it and its linger runs out; or, when the transport
   * closed it already and EmbeddedChannel's close (what {@code channel.close()} in production
   * code calls) cancelled the linger's timer, the client closes its side. EmbeddedChannel's own
   * close alone would leave a lingering channel open, holding what its decoders buffered.
   */
  public static void end(EmbeddedChannel channel) {
    channel.pipeline().close();
    channel.advanceTimeBy(LingeringClose.LINGER_MILLIS + 1, TimeUnit.MILLISECONDS);
    channel.runScheduledPendingTasks();
    channel.runPendingTasks();
    if (channel.isOpen()) {
      channel.pipeline().fireChannelInactive();
      channel.runPendingTasks();
    }
  }
}
