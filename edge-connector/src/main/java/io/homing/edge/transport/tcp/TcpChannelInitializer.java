package io.homing.edge.transport.tcp;

import io.homing.edge.session.Session;
import io.homing.edge.session.SessionContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;
import java.time.Duration;

/**
 * The pipeline of a raw TCP client connection: TLS when the node has a certificate, the lingering
 * close, varint32-delimited protobuf frames, and the transport-independent {@link Session}.
 */
public final class TcpChannelInitializer extends ChannelInitializer<SocketChannel> {
  /** How long a closing connection waits for the client to close before it drops the socket. */
  private static final Duration CLOSE_LINGER = Duration.ofSeconds(2);

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
    p.addLast("closer", new LingeringCloser(CLOSE_LINGER));
    p.addLast("decoder", new TcpFrameDecoder(maxFrameBytes));
    p.addLast("encoder", TcpFrameEncoder.INSTANCE);
    p.addLast("session", new Session(context, true));
  }
}
