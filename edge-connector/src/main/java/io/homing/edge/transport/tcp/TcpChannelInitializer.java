package io.homing.edge.transport.tcp;

import io.homing.api.v1.Error;
import io.homing.edge.session.Frames;
import io.homing.edge.session.Session;
import io.homing.edge.session.SessionContext;
import io.homing.edge.transport.AdmissionGate;
import io.homing.edge.transport.TlsPort;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The pipeline of a raw TCP client connection: TLS when the node has a certificate, one {@link
 * TcpTransport} (varint32-delimited protobuf frames, the lingering close) that hands its frames
 * to the transport-independent {@link Session}.
 */
public final class TcpChannelInitializer extends ChannelInitializer<SocketChannel> {
  private final AdmissionGate admission;
  private final int maxFrameBytes;
  private final TlsPort tls;

  /** @param tls the port's TLS, or null for plain TCP */
  public TcpChannelInitializer(SessionContext context, int maxFrameBytes, TlsPort tls) {
    this.admission = new AdmissionGate(context, TcpChannelInitializer::tooManyAnswer);
    this.maxFrameBytes = maxFrameBytes;
    this.tls = tls;
  }

  /**
   * What a client that speaks plaintext to the port when it serves TLS reads: an {@code
   * Error{MALFORMED_FRAME}} frame, varint32-delimited, that says so.
   */
  public static ByteBuf plaintextAnswer(ByteBufAllocator alloc) {
    ByteBuf answer = alloc.buffer();
    try (ByteBufOutputStream out = new ByteBufOutputStream(answer)) {
      Frames.error(Error.Code.MALFORMED_FRAME, "this port speaks TLS only: connect with TLS "
          + "(tls://)").writeDelimitedTo(out);
    } catch (IOException e) {
      answer.release();
      throw new UncheckedIOException(e);
    }
    return answer;
  }

  /**
   * What a connection over a limit of connections that have not authenticated reads: an {@code
   * Error{RATE_LIMITED}} frame naming the limit, varint32-delimited.
   */
  static byte[] tooManyAnswer(String limit) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      Frames.error(Error.Code.RATE_LIMITED, limit + ": reconnect after a back-off")
          .writeDelimitedTo(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  @Override
  protected void initChannel(SocketChannel ch) {
    ChannelPipeline p = ch.pipeline();
    if (tls != null) {
      tls.addTo(ch);
    }
    Session session = admission.admit(ch);
    if (session != null) {
      p.addLast("tcp", new TcpTransport(maxFrameBytes, session));
    }
  }
}
