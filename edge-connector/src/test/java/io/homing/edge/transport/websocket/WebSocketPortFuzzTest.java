package io.homing.edge.transport.websocket;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.homing.edge.auth.TokenVerifier;
import io.homing.edge.session.ConnectionRegistry;
import io.homing.edge.session.EdgeLimits;
import io.homing.edge.session.Session;
import io.homing.edge.session.SessionContext;
import io.homing.edge.transport.Connections;
import io.homing.runtime.auth.TokenSettings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Whatever a client sends to the WebSocket port, through the port's real pipeline ({@link
 * WebSocketChannelInitializer}: HTTP codec, aggregator, the HTTP fallback's SSE, long-poll, ack
 * and CORS parsing, the upgrade, then {@link WebSocketTransport} and a real session with the real
 * token verifier). No token the fuzzer makes verifies (the secret is random), so every session
 * ends in a refusal. Every answer is an HTTP status the fallback documents or a Close frame with
 * a documented status (or a status a client may send, echoed); no exception reaches the end of the
 * pipeline; once the server closed the connection and its linger ran out, every buffer read is
 * released. The first byte sets the size of the pieces the rest arrives in, so that frames come in
 * the read of the upgrade request, or in reads of their own. See docs/fuzzing.md.
 */
class WebSocketPortFuzzTest {
  private static final Set<Integer> HTTP_STATUSES =
      Set.of(100, 101, 200, 204, 400, 401, 404, 413, 417, 426);
  private static final Set<Integer> CLOSE_CODES = Set.of(1000, 1002, 1007, 1009,
      4001, 4002, 4003, 4101, 4102, 4103, 4104);
  private static final SessionContext CONTEXT;
  private static final WebSocketChannelInitializer PORT;

  static {
    TokenVerifier verifier = new TokenVerifier(TokenSettings.hs256(
        "fuzz-" + Long.toHexString(new java.security.SecureRandom().nextLong())
            + "-0123456789abcdefghijklmnopqrstuvwxyz"));
    // No token verifies, so presence, events and uplink are never reached.
    SessionContext context = new SessionContext("edge-fuzz", Duration.ofSeconds(5),
        Duration.ofSeconds(30), Duration.ofSeconds(90), verifier, new ConnectionRegistry(16),
        null, null, null, EdgeLimits.defaults(), List.of(), new SimpleMeterRegistry());
    CONTEXT = context;
    PORT = new WebSocketChannelInitializer(context, 1024, null, List.of("https://app.example"));
  }

  @FuzzTest
  void answersEveryRequestWithADocumentedStatus(byte[] input) {
    EmbeddedChannel channel = new EmbeddedChannel(new ChannelInitializer<Channel>() {
      @Override
      protected void initChannel(Channel ch) {
        PORT.addHandlers(ch.pipeline(), new Session(CONTEXT, true));
      }
    });
    int piece = input.length == 0 ? 1 : (input[0] & 0xff) * 4 + 1;
    List<ByteBuf> written = new ArrayList<>();
    for (int at = 1, end; at < input.length && channel.isOpen(); at = end) {
      end = Math.min(input.length, at + piece);
      ByteBuf bytes = Unpooled.copiedBuffer(Arrays.copyOfRange(input, at, end));
      written.add(bytes);
      channel.writeInbound(bytes);
      channel.runPendingTasks();
    }
    Connections.end(channel);

    boolean upgraded = false;
    for (ByteBuf out; (out = channel.readOutbound()) != null; out.release()) {
      if (out.readableBytes() >= 12 && out.toString(0, 9, StandardCharsets.US_ASCII)
          .equals("HTTP/1.1 ")) {
        int status = Integer.parseInt(out.toString(9, 3, StandardCharsets.US_ASCII));
        assertThat(status).isIn(HTTP_STATUSES);
        upgraded |= status == 101;
      } else if (upgraded && out.readableBytes() >= 4 && out.getUnsignedByte(0) == 0x88) {
        // Or the status of the client's own Close, echoed: WebSocketTransportFuzzTest checks
        // that it is the client's.
        int status = out.getUnsignedShort(2);
        if (!CloseCodes.isValidFromPeer(status)) {
          assertThat(status).isIn(CLOSE_CODES);
        }
      }
    }
    channel.finishAndReleaseAll(); // rethrows what reached the end of the pipeline

    assertThat(written).allSatisfy(bytes -> assertThat(bytes.refCnt()).isZero());
  }
}
