package io.homing.edge.transport.websocket;

import static org.assertj.core.api.Assertions.assertThat;

import io.homing.edge.auth.TokenVerifier;
import io.homing.edge.session.ConnectionRegistry;
import io.homing.edge.session.EdgeLimits;
import io.homing.edge.session.Session;
import io.homing.edge.session.SessionContext;
import io.homing.runtime.auth.TokenSettings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The upgrade on the port's real pipeline: what a client sends with its request, and after. */
class WebSocketUpgradeTest {
  private static final String UPGRADE = "GET /ws HTTP/1.1\r\n"
      + "Host: edge\r\n"
      + "Upgrade: websocket\r\n"
      + "Connection: Upgrade\r\n"
      + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      + "Sec-WebSocket-Version: 13\r\n\r\n";

  private final SessionContext context = new SessionContext("edge-test", Duration.ofSeconds(5),
      Duration.ofSeconds(30), Duration.ofSeconds(90),
      new TokenVerifier(TokenSettings.hs256("upgrade-test-0123456789abcdefghijklmnopqrstuvwxyz")),
      new ConnectionRegistry(16), null, null, null, EdgeLimits.defaults(),
      List.of(), new SimpleMeterRegistry());
  private final WebSocketChannelInitializer port =
      new WebSocketChannelInitializer(context, 1024, null, List.of());
  /** Writes that reach the socket, held until {@link #flushTheSocket} when the socket is slow. */
  private final SlowSocket socket = new SlowSocket();
  private final EmbeddedChannel channel = new EmbeddedChannel(socket,
      new ChannelInitializer<Channel>() {
        @Override
        protected void initChannel(Channel ch) {
          port.addHandlers(ch.pipeline(), new Session(context, true));
        }
      });
  private final EmbeddedChannel client =
      new EmbeddedChannel(new WebSocket13FrameDecoder(false, false, 1 << 16));
  private final List<WebSocketFrame> seen = new ArrayList<>();

  @AfterEach
  void releaseEverything() {
    seen.forEach(WebSocketFrame::release);
    channel.finishAndReleaseAll();
    client.finishAndReleaseAll();
  }

  @Test
  void readsFramesSentInTheSameReadAsTheUpgradeRequest() {
    // Found by WebSocketPortFuzzTest (seed upgrade-then-text-cut-short): the frames stayed in the
    // HTTP decoder, reached the session as bytes, and were never released.
    ByteBuf read = oneRead(UPGRADE, ping("hi"));

    channel.writeInbound(read);

    assertThat(response()).startsWith("HTTP/1.1 101 ");
    assertThat(this.<PongWebSocketFrame>frame().content().toString(StandardCharsets.UTF_8))
        .isEqualTo("hi");
    assertThat(read.refCnt()).isZero();
    assertThat(channel.pipeline().names()).contains("websocket")
        .doesNotContain("http", "websocket-leftovers", "http-fallback", "session");
  }

  @Test
  void readsFramesSentWithTheRequestAfterA101ThatTookLongToWrite() {
    socket.slow = true;
    ByteBuf read = oneRead(UPGRADE, ping("one"));

    channel.writeInbound(read);
    channel.writeInbound(ping("two"));
    socket.flushTheSocket();

    assertThat(response()).startsWith("HTTP/1.1 101 ");
    assertThat(this.<PongWebSocketFrame>frame().content().toString(StandardCharsets.UTF_8))
        .isEqualTo("one");
    assertThat(this.<PongWebSocketFrame>frame().content().toString(StandardCharsets.UTF_8))
        .isEqualTo("two");
    assertThat(read.refCnt()).isZero();
  }

  @Test
  void releasesWhatCameWithARefusedUpgradeAndWhatFollowsUntilTheClose() {
    socket.slow = true; // the connection closes once the 400 is out
    ByteBuf read = oneRead(
        UPGRADE.replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""), ping("hi"));

    channel.writeInbound(read);
    ByteBuf later = ping("later");
    channel.writeInbound(later);
    socket.flushTheSocket();

    assertThat(response()).startsWith("HTTP/1.1 400 ");
    assertThat(read.refCnt()).isZero();
    assertThat(later.refCnt()).isZero();
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void answersNothingAfterAnUnsupportedVersionButThe426() {
    // What follows an upgrade request is not HTTP, also when the version is refused: a request
    // pipelined after it is released with it, not answered by the plain HTTP fallback.
    socket.slow = true; // the connection closes once the 426 is out
    ByteBuf read = Unpooled.buffer()
        .writeBytes((UPGRADE.replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 99")
            + "GET /x HTTP/1.1\r\nHost: edge\r\n\r\n").getBytes(StandardCharsets.US_ASCII));

    channel.writeInbound(read);
    socket.flushTheSocket();

    assertThat(response()).startsWith("HTTP/1.1 426 ");
    ByteBuf more = channel.readOutbound();
    assertThat(more).as("an answer to the pipelined request").isNull();
    assertThat(read.refCnt()).isZero();
    assertThat(channel.isOpen()).isFalse();
  }

  /** The request and the frames after it, as they arrive in one read. */
  private static ByteBuf oneRead(String request, ByteBuf frames) {
    ByteBuf read = Unpooled.buffer().writeBytes(request.getBytes(StandardCharsets.US_ASCII))
        .writeBytes(frames);
    frames.release();
    return read;
  }

  /** A Ping frame as a client puts it on the wire: masked. */
  private static ByteBuf ping(String text) {
    EmbeddedChannel encoder = new EmbeddedChannel(new WebSocket13FrameEncoder(true));
    encoder.writeOutbound(new PingWebSocketFrame(Unpooled.copiedBuffer(text,
        StandardCharsets.UTF_8)));
    ByteBuf wire = Unpooled.buffer();
    for (ByteBuf bytes; (bytes = encoder.readOutbound()) != null; bytes.release()) {
      wire.writeBytes(bytes);
    }
    encoder.finishAndReleaseAll();
    return wire;
  }

  /** The HTTP response the client reads first. */
  private String response() {
    ByteBuf out = channel.readOutbound();
    assertThat(out).as("the response").isNotNull();
    try {
      return out.toString(StandardCharsets.US_ASCII);
    } finally {
      out.release();
    }
  }

  /** The next frame the client reads after the response; released after the test. */
  @SuppressWarnings("unchecked")
  private <T extends WebSocketFrame> T frame() {
    for (ByteBuf out; (out = channel.readOutbound()) != null; ) {
      client.writeInbound(out);
    }
    T frame = (T) client.readInbound();
    assertThat(frame).as("a frame from the server").isNotNull();
    seen.add(frame);
    return frame;
  }

  /**
   * A socket that, when slow, completes writes only once {@link #flushTheSocket} is called, as a
   * socket whose send buffer is full does: until then the upgrade keeps the HTTP codec.
   */
  private static final class SlowSocket extends ChannelOutboundHandlerAdapter {
    boolean slow;
    private final List<ChannelPromise> pending = new ArrayList<>();

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
      if (!slow) {
        ctx.write(msg, promise);
        return;
      }
      ChannelPromise written = ctx.newPromise();
      pending.add(promise);
      ctx.write(msg, written);
    }

    void flushTheSocket() {
      pending.forEach(ChannelPromise::setSuccess);
      pending.clear();
    }
  }
}
