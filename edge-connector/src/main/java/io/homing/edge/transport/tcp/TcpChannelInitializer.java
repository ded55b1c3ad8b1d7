package io.homing.edge.transport.tcp;

import io.homing.edge.session.Session;
import io.homing.edge.session.SessionContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;

/**
 * The pipeline of a raw TCP client connection: TLS when the node has a certificate, one {@link
 * TcpTransport} (varint32-delimited protobuf frames, the lingering close) that hands its frames
 * to the transport-independent {@link Session}.
 */
public final class TcpChannelInitializer extends ChannelInitializer<SocketChannel> {
  private final SessionContext context;
  private final int maxFrameBytes;
  private final SslContext tls;

  /** @param tls the node's TLS context, or null for plain TCP */
  public TcpChannelInitializer(SessionContext context, int maxFrameBytes, SslContext tls) {
    this.context = context;
    this.maxFrameBytes = maxFrameBytes;
    this.tls = tls;
  }

  @Override
  protected void initChannel(SocketChannel ch) {
    ChannelPipeline p = ch.pipeline();
    if (tls != null) {
      p.addLast("tls", tls.newHandler(ch.alloc()));
    }
    p.addLast("tcp", new TcpTransport(maxFrameBytes, new Session(context, true)));
  }
}
