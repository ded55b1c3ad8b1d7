package io.homing.edge.transport.websocket;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrameEncoder;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class WebSocketCloserTest {
  /** Marks the channel as past the HTTP upgrade, as the handshaker's frame encoder does. */
  private static final class UpgradedMarker extends ChannelOutboundHandlerAdapter
      implements WebSocketFrameEncoder {}

  private final EmbeddedChannel channel =
      new EmbeddedChannel(new UpgradedMarker(), new WebSocketCloser(Duration.ofSeconds(2)));

  @Test
  void closeSendsOneCloseFrameAndWaitsForTheClientsAnswer() {
    ChannelFuture closed = channel.close();

    CloseWebSocketFrame sent = channel.readOutbound();
    assertThat(sent.statusCode()).isEqualTo(1000);
    sent.release();
    assertThat(channel.isOpen()).isTrue();
    assertThat(closed.isDone()).isFalse();

    channel.writeInbound(new CloseWebSocketFrame(WebSocketCloseStatus.NORMAL_CLOSURE));

    assertThat(closed.isSuccess()).isTrue();
    assertThat(channel.isOpen()).isFalse();
    assertThat(channel.<Object>readOutbound()).isNull();
  }

  @Test
  void aClientThatNeverAnswersIsDroppedAfterTheLinger() {
    channel.freezeTime();
    channel.pipeline().close(); // EmbeddedChannel.close() would cancel the scheduled linger
    ((CloseWebSocketFrame) channel.readOutbound()).release();

    channel.advanceTimeBy(1900, TimeUnit.MILLISECONDS);
    channel.runScheduledPendingTasks();
    assertThat(channel.isOpen()).isTrue();

    channel.advanceTimeBy(200, TimeUnit.MILLISECONDS);
    channel.runScheduledPendingTasks();
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void nothingIsWrittenAfterTheCloseFrame() {
    channel.close();
    ((CloseWebSocketFrame) channel.readOutbound()).release();

    BinaryWebSocketFrame late = new BinaryWebSocketFrame(Unpooled.wrappedBuffer(new byte[] {1}));
    ChannelFuture write = channel.writeAndFlush(late);

    assertThat(write.cause()).isInstanceOf(ClosedChannelException.class);
    assertThat(late.refCnt()).isZero();
    assertThat(channel.<Object>readOutbound()).isNull();
  }

  @Test
  void aProtocolViolationClosesWithItsStatusAndReason() {
    channel.pipeline().fireExceptionCaught(new CorruptedWebSocketFrameException(
        WebSocketCloseStatus.MESSAGE_TOO_BIG, "Max frame length of 65536 has been exceeded."));

    CloseWebSocketFrame sent = channel.readOutbound();
    assertThat(sent.statusCode()).isEqualTo(1009);
    assertThat(sent.reasonText()).isEqualTo("Max frame length of 65536 has been exceeded.");
    sent.release();
    assertThat(channel.isOpen()).isTrue();

    channel.pipeline().fireChannelInactive(); // the client closed its side
    assertThat(channel.<Object>readOutbound()).isNull();
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void aCloseStartedByTheClientIsPassedOnAndEndsAtOnce() {
    channel.writeInbound(new CloseWebSocketFrame(WebSocketCloseStatus.ENDPOINT_UNAVAILABLE));
    CloseWebSocketFrame received = channel.readInbound();
    assertThat(received.statusCode()).isEqualTo(1001);
    received.release();

    channel.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.ENDPOINT_UNAVAILABLE));
    channel.close();

    ((CloseWebSocketFrame) channel.readOutbound()).release();
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void beforeTheUpgradeACloseIsPlain() {
    EmbeddedChannel http = new EmbeddedChannel(new WebSocketCloser(Duration.ofSeconds(2)));

    http.close();

    assertThat(http.<Object>readOutbound()).isNull();
    assertThat(http.isOpen()).isFalse();
  }
}
