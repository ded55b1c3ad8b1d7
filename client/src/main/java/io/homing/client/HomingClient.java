package io.homing.client;

import io.homing.api.v1.AuthOk;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.ssl.SslContext;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A device's lasting session with Homing. Connects to one of the edges and authenticates; whenever
 * the connection ends — the edge shut down or died, the network dropped, the server gave up on
 * acks, a gap in the seqs — it connects again after a backoff, to the next edge of the list, and
 * resumes after the last seq the application received. So the application sees every message of
 * the device once and in seq order, across all the connections underneath.
 *
 * <p>Backoff: a random wait between the minimum and an exponentially growing cap (doubling per
 * failed attempt up to the maximum), reset once a connection authenticates — so a fleet of clients
 * that lost the same edge does not come back in one wave. Each attempt asks the token supplier
 * for a token, so an expired one is replaced.
 *
 * <p>The listener runs on the event loop; return quickly. Thread-safe.
 */
public final class HomingClient implements AutoCloseable {
  private final List<URI> edges;
  private final Supplier<String> tokens;
  private final PushListener listener;
  private final PushListener pushObserver;
  private final Consumer<String> onDisconnect;
  private final boolean json;
  private final long minBackoffMillis;
  private final long maxBackoffMillis;
  private final EventLoopGroup group;
  private final boolean ownGroup;
  /** For the wss:// and tls:// edges; null when there are none. */
  private final SslContext tls;
  private long lastDelivered;
  private long streamEpoch;
  private int failedAttempts;
  private int nextEdge;
  private long sessions;
  private HomingConnection current;
  private boolean closed;

  private HomingClient(Builder builder) {
    this.edges = List.copyOf(builder.edges);
    this.tokens = builder.tokens;
    this.listener = builder.listener;
    this.pushObserver = builder.pushObserver;
    this.onDisconnect = builder.onDisconnect;
    this.json = builder.json;
    this.minBackoffMillis = builder.minBackoff.toMillis();
    this.maxBackoffMillis = builder.maxBackoff.toMillis();
    this.lastDelivered = builder.lastSeq;
    this.streamEpoch = builder.streamEpoch;
    boolean secure = edges.stream()
        .anyMatch(edge -> ClientTransport.of(edge, json, HomingConnection.MAX_FRAME_BYTES).secure()); // fails on a bad URI
    this.tls = secure ? ClientTls.context(builder.trustedCertificates) : null;
    this.ownGroup = builder.group == null;
    this.group =
        ownGroup ? new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory()) : builder.group;
  }

  /**
   * A client for the device the tokens name, over these edges (tried in turn): each a
   * {@code ws://}, {@code wss://}, {@code tcp://} or {@code tls://} URI, see {@link
   * HomingConnection}; they may mix transports.
   */
  public static Builder builder(List<URI> edges, Supplier<String> tokens) {
    return new Builder(edges, tokens);
  }

  /**
   * The highest seq handed to the listener, over all connections so far — or where the server's
   * stream resumed, when the server said the client was ahead of it. Persist it with {@link
   * #streamEpoch()} and start the next client with both.
   */
  public synchronized long lastDelivered() {
    return current != null ? current.lastDelivered() : lastDelivered;
  }

  /** The stream epoch {@link #lastDelivered()} belongs to; 0 before the first AuthOk. */
  public synchronized long streamEpoch() {
    return current != null ? current.streamEpoch() : streamEpoch;
  }

  /** How many connections authenticated so far. */
  public synchronized long sessions() {
    return sessions;
  }

  /** The connection in use or being opened; null before the first and after close. */
  public synchronized HomingConnection connection() {
    return current;
  }

  /** Stops reconnecting, closes the connection and, if it owns one, the event loop. Idempotent. */
  @Override
  public void close() {
    HomingConnection last;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      last = current;
      current = null;
    }
    if (last != null) {
      last.close();
    }
    if (ownGroup) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  private HomingClient start() {
    connect();
    return this;
  }

  private void connect() {
    HomingConnection connection;
    synchronized (this) {
      if (closed) {
        return;
      }
      URI edge = edges.get(nextEdge++ % edges.size());
      connection =
          HomingConnection.builder(edge, tokens.get())
              .lastSeq(lastDelivered)
              .streamEpoch(streamEpoch)
              .json(json)
              .tls(tls)
              .listener(listener)
              .pushObserver(pushObserver)
              .eventLoopGroup(group)
              .connect();
      current = connection;
    }
    connection.authenticated().thenAccept(this::authenticated);
    connection.closed().thenAccept(reason -> ended(connection, reason));
  }

  private synchronized void authenticated(AuthOk ok) {
    failedAttempts = 0;
    sessions++;
  }

  private void ended(HomingConnection connection, String reason) {
    long delay;
    synchronized (this) {
      if (connection == current) {
        lastDelivered = connection.lastDelivered();
        streamEpoch = connection.streamEpoch();
      }
      if (closed || connection != current) {
        return;
      }
      delay = backoffMillis(failedAttempts++);
    }
    onDisconnect.accept(reason);
    group.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
  }

  private long backoffMillis(int attempt) {
    long cap = Math.min(maxBackoffMillis, minBackoffMillis << Math.min(attempt, 20));
    return cap <= minBackoffMillis
        ? minBackoffMillis
        : ThreadLocalRandom.current().nextLong(minBackoffMillis, cap + 1);
  }

  /** Options of a client. */
  public static final class Builder {
    private final List<URI> edges;
    private final Supplier<String> tokens;
    private PushListener listener = (seq, message) -> { };
    private PushListener pushObserver = (seq, message) -> { };
    private Consumer<String> onDisconnect = reason -> { };
    private long lastSeq;
    private long streamEpoch;
    private boolean json;
    private Duration minBackoff = Duration.ofMillis(100);
    private Duration maxBackoff = Duration.ofSeconds(30);
    private EventLoopGroup group;
    private Path trustedCertificates;

    private Builder(List<URI> edges, Supplier<String> tokens) {
      if (edges == null || edges.isEmpty()) {
        throw new IllegalArgumentException("edges: " + edges + " (expected: at least one)");
      }
      this.edges = edges;
      this.tokens = Objects.requireNonNull(tokens, "tokens");
    }

    /** Who receives the messages, each once and in seq order. */
    public Builder listener(PushListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * Also told of every Push frame each connection receives, on the event loop: redeliveries
     * included, before seqs at or below the last delivered are dropped and before the gap check.
     * For diagnostics and tests, e.g. counting seq conflicts; the default is none.
     */
    public Builder pushObserver(PushListener observer) {
      this.pushObserver = Objects.requireNonNull(observer, "observer");
      return this;
    }

    /** Told why each connection ended, before the client reconnects. */
    public Builder onDisconnect(Consumer<String> onDisconnect) {
      this.onDisconnect = Objects.requireNonNull(onDisconnect, "onDisconnect");
      return this;
    }

    /** The highest seq this device already holds; the default is 0 (none). */
    public Builder lastSeq(long lastSeq) {
      if (lastSeq < 0) {
        throw new IllegalArgumentException("lastSeq: " + lastSeq + " (expected: >= 0)");
      }
      this.lastSeq = lastSeq;
      return this;
    }

    /** The stream epoch of {@link #lastSeq}, as {@link HomingClient#streamEpoch()} said; 0: none. */
    public Builder streamEpoch(long streamEpoch) {
      this.streamEpoch = streamEpoch;
      return this;
    }

    /**
     * Over WebSocket, speak JSON in text frames instead of protobuf in binary frames; the default
     * is false. Raw TCP always carries protobuf.
     */
    public Builder json(boolean json) {
      this.json = json;
      return this;
    }

    /**
     * The certificates (PEM, e.g. a CA's) the certificates of {@code wss://} and {@code tls://}
     * edges must chain to; the default is the JDK's trust store. Either way an edge's name must
     * match the host of its URI.
     */
    public Builder trustedCertificates(Path pemFile) {
      this.trustedCertificates = Objects.requireNonNull(pemFile, "pemFile");
      return this;
    }

    /** The shortest and longest wait before reconnecting; the defaults are 100 ms and 30 s. */
    public Builder backoff(Duration min, Duration max) {
      if (min.isNegative() || min.isZero() || max.compareTo(min) < 0) {
        throw new IllegalArgumentException(
            "backoff: " + min + ".." + max + " (expected: 0 < min <= max)");
      }
      this.minBackoff = min;
      this.maxBackoff = max;
      return this;
    }

    /** An event loop to share with other clients; the default is one of its own. */
    public Builder eventLoopGroup(EventLoopGroup group) {
      this.group = group;
      return this;
    }

    /**
     * Starts connecting; returns at once. Throws {@link IllegalArgumentException} for an edge URI
     * that names no transport, or unreadable certificates.
     */
    public HomingClient start() {
      return new HomingClient(this).start();
    }
  }
}
