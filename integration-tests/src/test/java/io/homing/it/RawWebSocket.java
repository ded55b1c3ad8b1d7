package io.homing.it;

import com.google.protobuf.util.JsonFormat;
import io.homing.api.v1.Ack;
import io.homing.api.v1.Auth;
import io.homing.api.v1.AuthOk;
import io.homing.api.v1.ClientFrame;
import io.homing.api.v1.ServerFrame;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;

/**
 * A bare WebSocket (the JDK's client) that sends whatever bytes a test wants, to check how the
 * edge treats clients that do not follow the protocol.
 */
final class RawWebSocket implements WebSocket.Listener, AutoCloseable {
  private final LinkedBlockingQueue<ServerFrame> frames = new LinkedBlockingQueue<>();
  final CompletableFuture<Integer> closed = new CompletableFuture<>();
  private final WebSocket socket;
  private ByteBuffer partial = ByteBuffer.allocate(0);
  private final StringBuilder text = new StringBuilder();

  RawWebSocket(URI uri) {
    this(uri, null);
  }

  /** Over wss://, trusting what {@code tls} trusts (null: the JDK's default). */
  RawWebSocket(URI uri, SSLContext tls) {
    HttpClient.Builder client = HttpClient.newBuilder();
    if (tls != null) {
      client.sslContext(tls);
    }
    this.socket = client.build().newWebSocketBuilder().buildAsync(uri, this).join();
  }

  /** Sends the text as one message; the server may close before it has read it all. */
  void sendText(String text) {
    socket.sendText(text, true).exceptionally(e -> null).join();
  }

  /** Sends the bytes as one message; the server may close before it has read them all. */
  void sendBinary(byte[] bytes) {
    sendBinary(bytes, true);
  }

  /** Sends the bytes as a fragment of a message, the last one when {@code last}. */
  void sendBinary(byte[] bytes, boolean last) {
    socket.sendBinary(ByteBuffer.wrap(bytes), last).exceptionally(e -> null).join();
  }

  /** Authenticates as the token's user and device, resuming after {@code lastSeq}. */
  AuthOk authenticate(String token, long lastSeq) throws Exception {
    sendBinary(ClientFrame.newBuilder()
        .setAuth(Auth.newBuilder().setToken(token).setLastSeq(lastSeq)).build().toByteArray());
    ServerFrame frame = next(10);
    if (frame == null || !frame.hasAuthOk()) {
      throw new AssertionError("expected AuthOk, got " + frame);
    }
    return frame.getAuthOk();
  }

  /** Acks every seq up to {@code seq}. */
  void ack(long seq) {
    sendBinary(ClientFrame.newBuilder().setAck(Ack.newBuilder().setSeq(seq)).build().toByteArray());
  }

  /** The seq of the next Push, skipping other frames; -1 if none came within {@code seconds}. */
  long nextPushSeq(double seconds) throws Exception {
    long deadline = System.nanoTime() + (long) (seconds * 1e9);
    while (true) {
      ServerFrame frame = frames.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
      if (frame == null) {
        return -1;
      }
      if (frame.hasPush()) {
        return frame.getPush().getSeq();
      }
      other.add(frame);
    }
  }

  /** Frames other than Push that {@link #nextPushSeq} skipped, in arrival order. */
  final LinkedBlockingQueue<ServerFrame> other = new LinkedBlockingQueue<>();

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

  /** A text message is a frame in protobuf's JSON mapping. */
  @Override
  public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
    text.append(data);
    if (last) {
      try {
        ServerFrame.Builder frame = ServerFrame.newBuilder();
        JsonFormat.parser().merge(text.toString(), frame);
        frames.add(frame.build());
      } catch (Exception e) {
        closed.completeExceptionally(e);
      }
      text.setLength(0);
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
