package io.homing.loadtest;

import io.homing.client.HomingConnection;
import io.homing.client.Tokens;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

/**
 * Many authenticated WebSocket clients, each its own user with one device, acking like a real
 * client; every push they get also goes to the recorder as it arrived, for seq conflicts.
 * Connections are spread over the edge URLs and over loopback source addresses (127.0.0.1, .2, …),
 * since one (source, destination) pair has only ~28k ephemeral ports.
 */
final class ClientFleet implements AutoCloseable {
  private static final int MAX_PENDING_HANDSHAKES = 256;

  private final EventLoopGroup group =
      new MultiThreadIoEventLoopGroup(
          Math.max(2, Runtime.getRuntime().availableProcessors()), NioIoHandler.newFactory());
  private final List<HomingConnection> connections = new ArrayList<>();
  private final AtomicInteger failed = new AtomicInteger();
  private final AtomicReference<Throwable> firstFailure = new AtomicReference<>();

  /**
   * Connects every user and returns once all authenticated or failed.
   *
   * @param trustedCa what the edges' certificates must chain to over wss://; null: the JDK's
   * @param progress called with the number authenticated so far, about every second
   */
  Ramp connect(
      String[] userIds, List<URI> edges, int sourceAddresses, String secret, Path trustedCa,
      DeliveryRecorder recorder, IntConsumer progress)
      throws InterruptedException {
    Semaphore pending = new Semaphore(MAX_PENDING_HANDSHAKES);
    AtomicInteger done = new AtomicInteger();
    long start = System.nanoTime();
    long nextReport = start + 1_000_000_000L;
    for (int i = 0; i < userIds.length; i++) {
      pending.acquire();
      int user = i;
      HomingConnection.Builder builder =
          HomingConnection.builder(
              edges.get(i % edges.size()),
              Tokens.mint(secret, userIds[i], "d", Duration.ofHours(6)));
      if (trustedCa != null) {
        builder.trustedCertificates(trustedCa);
      }
      HomingConnection connection =
          builder
              .eventLoopGroup(group)
              .localAddress(source(i / edges.size() % sourceAddresses))
              .listener(
                  (seq, message) -> recorder.received(message.getPayload().asReadOnlyByteBuffer()))
              .pushObserver(
                  (seq, message) ->
                      recorder.pushed(user, seq, message.getPayload().asReadOnlyByteBuffer()))
              .connect();
      connections.add(connection);
      connection
          .authenticated()
          .whenComplete(
              (ok, error) -> {
                if (error != null) {
                  failed.incrementAndGet();
                  firstFailure.compareAndSet(null, error);
                }
                done.incrementAndGet();
                pending.release();
              });
      if (System.nanoTime() >= nextReport) {
        progress.accept(done.get() - failed.get());
        nextReport += 1_000_000_000L;
      }
    }
    pending.acquire(MAX_PENDING_HANDSHAKES);
    pending.release(MAX_PENDING_HANDSHAKES);
    double seconds = (System.nanoTime() - start) / 1e9;
    return new Ramp(userIds.length - failed.get(), failed.get(), firstFailure.get(), seconds);
  }

  /** How a ramp went; {@code firstFailure} is why the first connection that failed did, or null. */
  record Ramp(int connected, int failed, Throwable firstFailure, double seconds) {
    double perSecond() {
      return connected / Math.max(seconds, 1e-9);
    }
  }

  /** Closes every connection. */
  void disconnect() {
    for (HomingConnection c : connections) {
      c.close();
    }
    connections.clear();
  }

  @Override
  public void close() {
    disconnect();
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
  }

  private static InetAddress source(int index) {
    try {
      return InetAddress.getByAddress(
          new byte[] {127, 0, (byte) (index / 250), (byte) (1 + index % 250)});
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }
}
