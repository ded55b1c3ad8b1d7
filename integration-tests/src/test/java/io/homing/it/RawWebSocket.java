package io.homing.it;

import io.homing.api.v1.ServerFrame;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A bare WebSocket (the JDK's client) that sends whatever bytes a test wants, to check how the
 * edge treats clients that do not follow the protocol.
 */
final class RawWebSocket implements WebSocket.Listener, AutoCloseable {
  private final LinkedBlockingQueue<ServerFrame> frames = new LinkedBlockingQueue<>();
  final CompletableFuture<Integer> closed = new CompletableFuture<>();
  private final WebSocket socket;
  private ByteBuffer partial = ByteBuffer.allocate(0);

  RawWebSocket(URI uri) {
    this.socket =
        HttpClient.newHttpClient().newWebSocketBuilder().buildAsync(uri, this).join();
  }

  /** Sends the bytes as one message; the server may close before it has read them all. */
  void sendBinary(byte[] bytes) {
    sendBinary(bytes, true);
  }

  /** Sends the bytes as a fragment of a message, the last one when {@code last}. */
  void sendBinary(byte[] bytes, boolean last) {
    socket.sendBinary(ByteBuffer.wrap(bytes), last).exceptionally(e -> null).join();
  }

  /** The next frame the server sent, or null after {@code seconds}. */
  ServerFrame next(int seconds) throws Exception {
    return frames.poll(seconds, TimeUnit.SECONDS);
  }

  @Override
  public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
    ByteBuffer joined = ByteBuffer.allocate(partial.remaining() + data.remaining());
    joined.put(partial).put(data).flip();
    partial = joined;
    if (last) {
      try {
        frames.add(ServerFrame.parseFrom(partial));
      } catch (Exception e) {
        closed.completeExceptionally(e);
      }
      partial = ByteBuffer.allocate(0);
    }
    webSocket.request(1);
    return null;
  }

  @Override
  public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
    closed.complete(statusCode);
    return null;
  }

  @Override
  public void onError(WebSocket webSocket, Throwable error) {
    closed.complete(-1);
  }

  @Override
  public void close() {
    socket.abort();
  }
}
