package io.homing.edge.session;

import io.homing.api.v1.ClientFrame;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;

/**
 * A {@link Connection} at the end of a pipeline, for transports whose frames reach it as messages
 * (SSE, long-poll) and for a WebSocket connection until its upgrade. Taken out of the pipeline
 * without {@link #handOver}, it abandons its connection.
 */
public final class SessionHandler extends ChannelInboundHandlerAdapter {
  private final Connection connection;
  private boolean handedOver;

  public SessionHandler(Connection connection) {
    this.connection = connection;
  }

  /**
   * Takes this handler out of the pipeline and returns its connection, for the transport handler
   * that will call it from now on.
   */
  public Connection handOver(ChannelPipeline pipeline) {
    handedOver = true;
    pipeline.remove(this);
    return connection;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    connection.start(ctx.channel());
    super.channelActive(ctx);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    connection.read((ClientFrame) msg); // the transport's codec turns everything into ClientFrames
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    connection.closed();
    super.channelInactive(ctx);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    connection.failed(cause);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    if (!handedOver) {
      connection.abandon();
    }
  }
}
