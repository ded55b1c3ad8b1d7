package io.homing.edge.transport.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.homing.edge.auth.TokenVerifier;
import io.homing.edge.session.ConnectionRegistry;
import io.homing.edge.session.EdgeLimits;
import io.homing.edge.session.SessionContext;
import io.homing.runtime.auth.TokenSettings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Plain HTTP on the WebSocket port: the codec, the aggregator and the fallback, as there. */
class HttpFallbackHandlerTest {
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final SessionContext context = new SessionContext("edge-test", Duration.ofSeconds(5),
      Duration.ofSeconds(30), Duration.ofSeconds(90),
      new TokenVerifier(TokenSettings.hs256("fallback-test-0123456789abcdefghijklmnopqrstuvwxyz")),
      new ConnectionRegistry(16), null, null, null, EdgeLimits.defaults(), List.of(), meters);
  private final EmbeddedChannel channel = new EmbeddedChannel(new HttpServerCodec(),
      new HttpObjectAggregator(8192),
      new HttpFallback(context, List.of()).newHandler("/ws"));

  @AfterEach
  void releaseEverything() {
    channel.finishAndReleaseAll();
  }

  @Test
  void aRequestCutShortByTheCloseEndsTheConnectionQuietly() {
    // Found by WebSocketPortFuzzTest (seed ack-too-large-then-garbage): the aggregator answered
    // 413, the fallback 400 to what it passed on after (a request that did not decode) and closed
    // the connection; the aggregator, still in a request, reported the close as an exception that
    // nothing handled, and Netty logged it as having reached the end of the pipeline.
    channel.writeInbound(Unpooled.copiedBuffer("POST /ack HTTP/1.1\r\n"
        + "Host:" + "\u00b4".repeat(78) + " e\r\n"
        + "Expect: 100-continue\r\n"
        + "Content-Length: 99999\r\n\r\n"
        + "\u0014".repeat(13), StandardCharsets.ISO_8859_1));
    channel.runPendingTasks();

    assertThat(responses()).satisfiesExactly(
        first -> assertThat(first).startsWith("HTTP/1.1 413 "),
        second -> assertThat(second).startsWith("HTTP/1.1 400 "));
    assertThat(channel.isOpen()).isFalse();
    channel.checkException(); // nothing reached the end of the pipeline
  }

  @Test
  void answersAMalformedPercentEscapeWithBadRequest() {
    // Found by WebSocketPortFuzzTest (seed malformed-escape-after-a-request): decoding the path
    // (or a token parameter, for /poll and /ack) threw IllegalArgumentException out of the
    // handler; on a plain HTTP connection nothing took it, and the request got no answer.
    channel.writeInbound(Unpooled.copiedBuffer("GET /x HTTP/1.1\r\nHost: e\r\n\r\n"
        + "GET /sse% HTTP/1.1\r\nHost: e\r\n\r\n"
        + "GET /poll?token=secret% HTTP/1.1\r\nHost: e\r\n\r\n", StandardCharsets.US_ASCII));

    assertThat(responses()).satisfiesExactly(
        notFound -> assertThat(notFound).startsWith("HTTP/1.1 404 "),
        first -> assertThat(first).startsWith("HTTP/1.1 400 ").contains("percent-escape"),
        second -> assertThat(second).startsWith("HTTP/1.1 400 ").doesNotContain("secret"));
    assertThat(channel.isOpen()).isTrue(); // kept alive: the requests were whole
    channel.checkException(); // nothing reached the end of the pipeline
  }

  @Test
  void answersNothingPipelinedAfterTheRequestItClosedOn() {
    // Found by WebSocketPortFuzzTest (seed pipelined-after-a-close): the codec goes on decoding
    // the read after the answer that closed the connection; an /sse request then made a session
    // for a closed channel, and an answer of the aggregator's own (417 to an expectation it does
    // not know) failed to be written, an exception that nothing handled.
    channel.writeInbound(Unpooled.copiedBuffer("GET /x HTTP/1.0\r\n\r\n"
        + "GET /sse?token=t HTTP/1.1\r\nHost: e\r\n\r\n"
        + "POST /ack HTTP/1.1\r\nHost: e\r\nExpect: 99\r\n\r\n", StandardCharsets.US_ASCII));
    channel.runPendingTasks();

    assertThat(responses()).satisfiesExactly(
        notFound -> assertThat(notFound).startsWith("HTTP/1.1 404 "));
    assertThat(channel.isOpen()).isFalse();
    channel.checkException(); // nothing reached the end of the pipeline
    // No session was made for the /sse request: none took its token to refuse it.
    assertThat(meters.find("homing.edge.auth.refused").counters()).isEmpty();
  }

  @Test
  void aConnectionResetUnderAPlainRequestClosesQuietly() {
    channel.writeInbound(Unpooled.copiedBuffer("GET /x HTTP/1.1\r\nHost: e\r\n\r\n",
        StandardCharsets.US_ASCII));
    assertThat(responses()).hasSize(1);

    channel.pipeline().fireExceptionCaught(new IOException("Connection reset by peer"));

    assertThat(channel.isOpen()).isFalse();
    channel.checkException(); // nothing reached the end of the pipeline
  }

  private List<String> responses() {
    List<String> responses = new ArrayList<>();
    for (ByteBuf out; (out = channel.readOutbound()) != null; out.release()) {
      responses.add(out.toString(StandardCharsets.US_ASCII));
    }
    return responses;
  }
}
