package io.homing.edge;

import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.homing.api.v1.EdgeServiceGrpc;
import io.homing.api.v1.Error;
import io.homing.edge.auth.TokenVerifier;
import io.homing.edge.delivery.EdgeDeliveryService;
import io.homing.edge.events.DeliveryEventPublisher;
import io.homing.edge.presence.Presence;
import io.homing.edge.presence.Replacements;
import io.homing.edge.session.ConnectionRegistry;
import io.homing.edge.session.SessionContext;
import io.homing.edge.session.SessionSweeper;
import io.homing.edge.transport.FixedReads;
import io.homing.edge.transport.TlsFiles;
import io.homing.edge.transport.TlsPort;
import io.homing.edge.transport.http.HttpFallback;
import io.homing.edge.transport.tcp.TcpChannelInitializer;
import io.homing.edge.transport.websocket.WebSocketChannelInitializer;
import io.homing.runtime.Lifecycle;
import io.homing.runtime.MetricsEndpoint;
import io.homing.runtime.grpc.StandardServices;
import io.homing.runtime.tls.InternalTls;
import io.homing.runtime.tls.Reloading;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One edge node: the client-facing servers (WebSocket and HTTP on one port, raw TCP on another,
 * TLS on both when configured), the gRPC server core delivers through, this node's presence in
 * Redis and its publisher of delivery events and client publishes.
 */
public final class EdgeServer implements AutoCloseable {
  /** How much one read of a client connection takes at most; a larger frame takes several. */
  private static final int READ_BYTES = 4096;

  private static final Logger log = LoggerFactory.getLogger(EdgeServer.class);
  /** How long the start waits for Kafka to answer its login check. */
  private static final Duration KAFKA_LOGIN_TIMEOUT = Duration.ofSeconds(10);
  /** How long a shutdown waits for clients to take their SHUTTING_DOWN and close. */
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(3);

  private final EdgeConfig config;
  private final ConnectionRegistry registry;
  private Presence presence;
  private DeliveryEventPublisher events;
  private EventLoopGroup bossGroup;
  private EventLoopGroup workerGroup;
  private Channel clientChannel;
  private Channel tcpChannel;
  private SessionSweeper sweeper;
  private TokenVerifier verifier;
  private Server grpcServer;
  /** What the gRPC port asks of core: a certificate of the internal CA; null for plaintext. */
  private Reloading<ServerCredentials> coreTls;
  private MetricsEndpoint metrics;
  /** Health and reflection of the internal port core delivers through. */
  private final StandardServices standard =
      new StandardServices(List.of(EdgeServiceGrpc.SERVICE_NAME));
  private boolean closed;

  public EdgeServer(EdgeConfig config) {
    this.config = config;
    this.registry = new ConnectionRegistry(config.limits().connectionsPerUser());
  }

  /**
   * Starts every part; returns once clients and core can connect. A part that cannot start closes
   * what started before it and fails the start ({@link Lifecycle#startOrClose}).
   */
  public synchronized EdgeServer start() {
    Lifecycle.startOrClose(this::startParts, this);
    return this;
  }

  private void startParts() {
    metrics = new MetricsEndpoint(config.metricsAddress(), () -> !closed, config.metricsTls());
    MeterRegistry meters = metrics.registry();
    Gauge.builder("homing.edge.connections", registry, ConnectionRegistry::size)
        .description("Authenticated client connections on this node").register(meters);
    Replacements replacements = new Replacements(registry, meters);
    SslContext tls = config.tls() == null ? null : config.tls().serverContext();
    if (!config.kafka().checkLogin(KAFKA_LOGIN_TIMEOUT)) {
      log.warn("Kafka {} did not answer within {}: events wait in the producer until it does",
          config.kafka(), KAFKA_LOGIN_TIMEOUT);
    }
    events = new DeliveryEventPublisher(config.kafka(), config.topics().deliveryEvents(),
        config.topics().inbound(), config.nodeId());
    presence =
        new Presence(
            config.redis(),
            config.keyPrefix(),
            config.nodeId(),
            config.advertisedGrpc(),
            config.presenceTtl());
    coreTls = config.internalTls().map(InternalTls::serverCredentials).orElse(null);
    try {
      grpcServer = standard.addTo(
          coreTls == null
              ? NettyServerBuilder.forAddress(config.grpcAddress())
              : NettyServerBuilder.forAddress(config.grpcAddress(), coreTls.credentials()))
              // Deliveries only look a session up and hand the frame to its event loop: run
              // them on gRPC's own event loop instead of a hop through an executor thread.
              .directExecutor()
              .addService(new EdgeDeliveryService(registry, meters))
              .build()
              .start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot listen for core on " + config.grpcAddress(), e);
    }
    standard.serving();
    verifier = new TokenVerifier(config.tokens());
    SessionContext context =
        new SessionContext(
            config.nodeId(),
            config.authTimeout(),
            config.heartbeat(),
            config.idleTimeout(),
            verifier,
            registry,
            presence,
            events,
            events,
            config.limits(),
            config.webhookPrefixes(),
            meters);
    // epoll where the native library loads (Linux), NIO elsewhere.
    boolean epoll = Epoll.isAvailable();
    IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    bossGroup = new MultiThreadIoEventLoopGroup(1, io);
    workerGroup = new MultiThreadIoEventLoopGroup(io);
    ServerBootstrap bootstrap =
        new ServerBootstrap()
            .group(bossGroup, workerGroup)
            .channel(epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class)
            .option(ChannelOption.SO_BACKLOG, 4096)
            .childOption(ChannelOption.TCP_NODELAY, true)
            // Fixed-size reads with their bookkeeping per thread: Netty's adaptive default costs
            // each idle connection ~130 B for sizing reads of frames that are mostly tiny acks.
            .childOption(ChannelOption.RECVBUF_ALLOCATOR, new FixedReads(READ_BYTES));
    clientChannel =
        bootstrap.clone()
            .childHandler(new WebSocketChannelInitializer(context, config.maxFrameBytes(),
                tls == null ? null : new TlsPort(tls, "websocket",
                    WebSocketChannelInitializer::plaintextAnswer, meters),
                config.corsOrigins()))
            .bind(config.clientAddress())
            .syncUninterruptibly()
            .channel();
    tcpChannel =
        bootstrap.clone()
            .childHandler(new TcpChannelInitializer(context, config.maxFrameBytes(),
                tls == null ? null : new TlsPort(tls, "tcp", TcpChannelInitializer::plaintextAnswer,
                    meters)))
            .bind(config.tcpAddress())
            .syncUninterruptibly()
            .channel();
    sweeper = new SessionSweeper(context).start();
    presence.onLost(this::registerAgain);
    presence.onReplaced(replacements::replacedRemotely);
    presence.start();
    log.info(
        "edge {} up: clients {}://{}{} and {}://{} ({}), tcp{} {}, core grpc {} ({}); TLS {}; "
            + "Kafka {}, Redis {}",
        config.nodeId(),
        tls == null ? "ws" : "wss",
        format(clientAddress()),
        WebSocketChannelInitializer.PATH,
        tls == null ? "http" : "https",
        format(clientAddress()),
        HttpFallback.PATHS,
        tls == null ? "" : "+tls",
        format(tcpAddress()),
        config.advertisedGrpc(),
        coreTls == null ? "plaintext" : "mutual TLS",
        tls == null ? "off" : "by " + TlsFiles.provider(),
        config.kafka(),
        config.redis());
  }

  /**
   * Writes every connection's presence again and announces it to core with a Connected event
   * (resuming after what the client acked), after Redis lost this node's entries: a core that
   * reads presence from Redis finds the devices again, and one that knew them changes nothing.
   */
  private void registerAgain() {
    AtomicInteger count = new AtomicInteger();
    registry.forEach(session -> {
      presence.register(session.userId(), session.deviceId(), session.connectionId());
      events.connected(session.userId(), session.deviceId(), session.connectionId(),
          session.lastAcked(), session.streamEpoch());
      count.incrementAndGet();
    });
    metrics.registry().counter("homing.edge.presence.reregistered").increment(count.get());
    log.info("registered {} connections of node {} again", count.get(), config.nodeId());
  }

  /** The bound client address (the real port when configured with port 0). */
  public InetSocketAddress clientAddress() {
    return (InetSocketAddress) clientChannel.localAddress();
  }

  /** The bound raw TCP address (the real port when configured with port 0). */
  public InetSocketAddress tcpAddress() {
    return (InetSocketAddress) tcpChannel.localAddress();
  }

  /** Where /metrics and /health are served (the real port when configured with port 0). */
  public InetSocketAddress metricsAddress() {
    return metrics.address();
  }

  /** The bound gRPC port. */
  public int grpcPort() {
    return grpcServer.getPort();
  }

  public ConnectionRegistry registry() {
    return registry;
  }

  /**
   * Stops accepting, tells every client it is shutting down and closes its connection (each leaves
   * presence and publishes its Disconnected), stops gRPC, then deletes this node's liveness key and flushes pending events.
   * Idempotent; bounded to a few seconds.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    standard.shutdown();
    if (sweeper != null) {
      sweeper.close();
    }
    if (tcpChannel != null) {
      tcpChannel.close().syncUninterruptibly();
    }
    if (clientChannel != null) {
      clientChannel.close().syncUninterruptibly();
      try {
        registry.closeAll(Error.Code.SHUTTING_DOWN, "edge " + config.nodeId() + " is shutting down",
            CLOSE_TIMEOUT);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (workerGroup != null) {
      workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
      bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
    if (grpcServer != null) {
      grpcServer.shutdown();
      try {
        if (!grpcServer.awaitTermination(2, TimeUnit.SECONDS)) {
          grpcServer.shutdownNow();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        grpcServer.shutdownNow();
      }
    }
    if (coreTls != null) {
      coreTls.close();
    }
    if (verifier != null) {
      verifier.close(); // stops the JWK set's background refresh
    }
    if (presence != null) {
      presence.close();
    }
    if (events != null) {
      events.close();
    }
    if (metrics != null) {
      metrics.close();
    }
  }

  private static String format(InetSocketAddress address) {
    return address.getHostString() + ':' + address.getPort();
  }
}
