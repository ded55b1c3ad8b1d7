package io.homing.edge.transport.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.homing.api.v1.Error;
import io.homing.api.v1.Push;
import io.homing.api.v1.ServerFrame;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SseEncoderTest {
  private final EmbeddedChannel channel = new EmbeddedChannel(new SseEncoder(Duration.ofSeconds(1)));

  @Test
  void aPushIsAnEventWithItsSeqAsIdAndItsJsonOnOneDataLine() {
    channel.writeOutbound(ServerFrame.newBuilder()
        .setPush(Push.newBuilder().setSeq(7).setPrevSeq(6)).build());

    assertThat(text(channel.readOutbound()))
        .isEqualTo("id: 7\ndata: {\"push\":{\"seq\":\"7\",\"prevSeq\":\"6\"}}\n\n");
  }

  @Test
  void anErrorEndsTheAnswerAndNothingFollows() {
    channel.writeOutbound(ServerFrame.newBuilder()
        .setError(Error.newBuilder().setCode(Error.Code.REPLACED).setMessage("again\nelsewhere"))
        .build());

    assertThat(text(channel.readOutbound()))
        .isEqualTo("data: {\"error\":{\"code\":\"REPLACED\",\"message\":\"again\\nelsewhere\"}}\n\n");
    assertThat(channel.<Object>readOutbound()).isSameAs(LastHttpContent.EMPTY_LAST_CONTENT);
    channel.write(ServerFrame.newBuilder().setPush(Push.newBuilder().setSeq(8)).build());
    channel.flush();
    assertThat(channel.<Object>readOutbound()).isNull();
  }

  @Test
  void aCommentGoesOutEveryHeartbeat() {
    channel.advanceTimeBy(1, TimeUnit.SECONDS);
    channel.runScheduledPendingTasks();

    assertThat(text(channel.readOutbound())).isEqualTo(":\n");
  }

  private static String text(HttpContent content) {
    try {
      return content.content().toString(StandardCharsets.UTF_8);
    } finally {
      content.release();
    }
  }
}
