package io.homing.edge.transport;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import java.util.function.Function;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client port that speaks TLS only. Its pipeline starts with the node's {@link SslHandler},
 * behind a look at the connection's first byte: a client that speaks plaintext to it (a TLS
 * connection starts with a handshake record, {@code 0x16}) gets an answer it can read — the
 * port's {@code plaintextAnswer}, such as an HTTP 400 — and the connection closes, where the TLS
 * handler alone would close it without a word. Both cases, and handshakes that fail, are counted
 * ({@code homing_edge_tls_refused_total{port, reason}}). The look is gone after the first bytes and the
 * count once the handshake is done, so an idle connection holds nothing of either. Thread-safe.
 */
public final class TlsPort {
  /** The first byte of a TLS connection: the content type of a handshake record. */
  private static final byte HANDSHAKE_RECORD = 0x16;

  private static final Logger log = LoggerFactory.getLogger(TlsPort.class);

  private final SslContext context;
  private final Function<ByteBufAllocator, ByteBuf> plaintextAnswer;
  private final Counter plaintext;
  private final Counter handshakeFailed;

  /**
   * @param port the port's name in the counts: {@code websocket} or {@code tcp}
   * @param plaintextAnswer the bytes a plaintext client gets before the connection closes, in
   *     the plaintext protocol of the port
   */
  public TlsPort(SslContext context, String port,
      Function<ByteBufAllocator, ByteBuf> plaintextAnswer, MeterRegistry meters) {
    this.context = context;
    this.plaintextAnswer = plaintextAnswer;
    this.plaintext = refused(meters, port, "plaintext");
    this.handshakeFailed = refused(meters, port, "handshake");
  }

  private static Counter refused(MeterRegistry meters, String port, String reason) {
    return Counter.builder("homing.edge.tls.refused")
        .description("Client connections to a TLS port closed before TLS was up: a client that "
            + "spoke plaintext, or a handshake that failed")
        .tag("port", port)
        .tag("reason", reason)
        .register(meters);
  }

  /** Starts the channel's pipeline with the plaintext check and the TLS handler. */
  public void addTo(SocketChannel channel) {
    SslHandler tls = context.newHandler(channel.alloc());
    tls.handshakeFuture().addListener(f -> {
      if (f.cause() instanceof SSLException e) {
        handshakeFailed.increment();
        log.debug("TLS handshake with {} failed: {}", channel.remoteAddress(), e.toString());
      }
    });
    channel.pipeline().addLast("plaintext-check", new PlaintextCheck());
    channel.pipeline().addLast("tls", tls);
  }

  /** Lets a TLS connection's bytes pass once it saw the first; answers and closes a plaintext one. */
  private final class PlaintextCheck extends ChannelInboundHandlerAdapter {
    private boolean refused;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf in = (ByteBuf) msg;
      if (refused) {
        ReferenceCountUtil.release(msg);
        return;
      }
      if (!in.isReadable()) {
        ctx.fireChannelRead(msg);
        return;
      }
      if (in.getByte(in.readerIndex()) == HANDSHAKE_RECORD) {
        ctx.pipeline().remove(this);
        ctx.fireChannelRead(msg);
        return;
      }
      in.release();
      refused = true;
      plaintext.increment();
      log.debug("plaintext from {} on a TLS port: refused", ctx.channel().remoteAddress());
      ctx.writeAndFlush(plaintextAnswer.apply(ctx.alloc())).addListener(ChannelFutureListener.CLOSE);
    }
  }
}
