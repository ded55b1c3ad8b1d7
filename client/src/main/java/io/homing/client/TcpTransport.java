package io.homing.client;

import io.netty.channel.ChannelPipeline;

/** {@code tcp://} and {@code tls://}: each frame its protobuf bytes after their varint32 length. */
final class TcpTransport implements ClientTransport {
  private final int port;
  private final boolean secure;
  private final int maxFrameBytes;

  TcpTransport(int port, boolean secure, int maxFrameBytes) {
    this.port = port;
    this.secure = secure;
    this.maxFrameBytes = maxFrameBytes;
  }

  @Override
  public boolean secure() {
    return secure;
  }

  @Override
  public int port() {
    return port;
  }

  @Override
  public void addHandlers(ChannelPipeline pipeline) {
    pipeline.addLast(new TcpClientCodec(maxFrameBytes));
  }
}
