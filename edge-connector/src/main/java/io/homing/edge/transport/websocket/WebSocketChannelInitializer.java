package io.homing.edge.transport.websocket;

import io.homing.edge.session.Session;
import io.homing.edge.session.SessionContext;
import io.homing.edge.session.SessionHandler;
import io.homing.edge.transport.AdmissionGate;
import io.homing.edge.transport.TlsPort;
import io.homing.edge.transport.http.HttpFallback;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * The pipeline of a WebSocket client connection. It starts as HTTP: the codec, the aggregator, the
 * {@link HttpFallback} for plain HTTP requests, the {@link WebSocketUpgrade} for the upgrade at
 * {@code /ws}, and the transport-independent {@link Session} in a {@link SessionHandler}; TLS
 * first, when the node has a certificate. After the upgrade it is TLS and one {@link
 * WebSocketTransport}, which calls the Session itself. A
 * connection whose first request is not the upgrade speaks plain HTTP instead: the HttpFallback
 * takes the handlers after it out and answers it.
 */
public final class WebSocketChannelInitializer extends ChannelInitializer<SocketChannel> {
  /** The path clients upgrade at. */
  public static final String PATH = "/ws";

  private static final int MAX_HANDSHAKE_BYTES = 8192;
  private static final String HTTP_FALLBACK = "http-fallback";

  private final AdmissionGate admission;
  private final TlsPort tls;
  private final HttpFallback http;
  /** Stateless: one for every connection of the node. */
  private final WebSocketUpgrade upgrade;

  /**
   * @param tls the port's TLS (wss:// and https://), or null for plain ws://
   * @param corsOrigins the origins browsers may call the HTTP fallback from, see {@link
   *     HttpFallback}
   */
  public WebSocketChannelInitializer(SessionContext context, int maxFrameBytes, TlsPort tls,
      List<String> corsOrigins) {
    this.admission = new AdmissionGate(context, WebSocketChannelInitializer::tooManyAnswer);
    this.tls = tls;
    this.http = new HttpFallback(context, corsOrigins);
    WebSocketDecoderConfig decoder =
        WebSocketDecoderConfig.newBuilder()
            .maxFramePayloadLength(maxFrameBytes)
            .expectMaskedFrames(true)
            .allowExtensions(false)
            .closeOnProtocolViolation(false) // the transport does, after the closing handshake
            .build();
    this.upgrade = new WebSocketUpgrade(PATH, decoder, HTTP_FALLBACK);
  }

  /**
   * What a client that speaks plain HTTP to the port when it serves TLS reads: {@code 400 Bad
   * Request} saying so, as a server of HTTPS answers plain HTTP.
   */
  public static ByteBuf plaintextAnswer(ByteBufAllocator alloc) {
    byte[] body = "This port speaks TLS only: use https:// or wss://.\n"
        .getBytes(StandardCharsets.US_ASCII);
    String head = "HTTP/1.1 400 Bad Request\r\n"
        + "Content-Type: text/plain; charset=us-ascii\r\n"
        + "Content-Length: " + body.length + "\r\n"
        + "Connection: close\r\n\r\n";
    return alloc.buffer().writeBytes(head.getBytes(StandardCharsets.US_ASCII)).writeBytes(body);
  }

  /**
   * What a connection over a limit of connections that have not authenticated reads: {@code 429
   * Too Many Requests} naming the limit, with {@code Retry-After}.
   */
  static byte[] tooManyAnswer(String limit) {
    byte[] body = (limit + ": reconnect after a back-off.\n").getBytes(StandardCharsets.UTF_8);
    String head = "HTTP/1.1 429 Too Many Requests\r\n"
        + "Content-Type: text/plain; charset=utf-8\r\n"
        + "Retry-After: 1\r\n"
        + "Content-Length: " + body.length + "\r\n"
        + "Connection: close\r\n\r\n";
    byte[] answer = Arrays.copyOf(head.getBytes(StandardCharsets.US_ASCII),
        head.length() + body.length);
    System.arraycopy(body, 0, answer, head.length(), body.length);
    return answer;
  }

  @Override
  protected void initChannel(SocketChannel ch) {
    if (tls != null) {
      tls.addTo(ch);
    }
    Session session = admission.admit(ch);
    if (session != null) {
      addHandlers(ch.pipeline(), session);
    }
  }

  /**
   * The handlers after TLS and admission; apart so that tests can run them on an embedded
   * channel.
   */
  void addHandlers(ChannelPipeline p, Session session) {
    p.addLast("http", new HttpServerCodec());
    p.addLast("http-aggregator", new HttpObjectAggregator(MAX_HANDSHAKE_BYTES));
    p.addLast(HTTP_FALLBACK, http.newHandler(PATH));
    p.addLast("websocket-upgrade", upgrade);
    p.addLast("session", new SessionHandler(session));
  }
}
