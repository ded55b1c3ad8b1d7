package io.homing.client;

import io.netty.channel.ChannelPipeline;
import java.net.URI;
import java.util.Locale;

/**
 * How frames travel on one kind of edge URI: the handlers between the socket (and TLS) and the
 * session. Each transport's codec turns {@code ClientFrame}s into its bytes and its bytes into
 * {@code ServerFrame}s, and fires {@link #READY} once the connection can carry frames, which is
 * when the session sends Auth.
 */
interface ClientTransport {
  /** The user event a transport fires down the pipeline once frames can be written. */
  Object READY = new Object() {
    @Override
    public String toString() {
      return "transport ready";
    }
  };

  /** Whether the connection runs over TLS. */
  boolean secure();

  /** The port to connect to. */
  int port();

  /** Adds the transport's handlers at the end of the pipeline. */
  void addHandlers(ChannelPipeline pipeline);

  /**
   * The transport a URI names: {@code ws://host[:port]/path} and {@code wss://…} (WebSocket; the
   * ports default to 80 and 443), {@code tcp://host:port} and {@code tls://host:port} (raw TCP,
   * varint32-delimited protobuf frames; the port is required).
   *
   * @param json for WebSocket, speak JSON in text frames rather than protobuf in binary frames
   */
  static ClientTransport of(URI uri, boolean json, int maxFrameBytes) {
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (uri.getHost() == null) {
      throw new IllegalArgumentException("uri: " + uri + " (expected: a host)");
    }
    return switch (scheme) {
      case "ws", "wss" -> new WebSocketTransport(uri, scheme.equals("wss"), json, maxFrameBytes);
      case "tcp", "tls" -> {
        if (uri.getPort() <= 0) {
          throw new IllegalArgumentException("uri: " + uri + " (expected: a port)");
        }
        yield new TcpTransport(uri.getPort(), scheme.equals("tls"), maxFrameBytes);
      }
      default -> throw new IllegalArgumentException(
          "uri: " + uri + " (expected: ws://, wss://, tcp:// or tls://)");
    };
  }
}
