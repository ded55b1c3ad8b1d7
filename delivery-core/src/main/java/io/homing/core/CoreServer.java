package io.homing.core;

import io.grpc.ChannelCredentials;
import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.homing.api.v1.AdminServiceGrpc;
import io.homing.api.v1.CoreServiceGrpc;
import io.homing.api.v1.SendServiceGrpc;
import io.homing.core.admin.AdminAuthentication;
import io.homing.core.admin.AdminService;
import io.homing.core.pipeline.DeliveryPipeline;
import io.homing.core.routing.EdgeClients;
import io.homing.core.routing.PresenceResolver;
import io.homing.core.send.ApiKeyFile;
import io.homing.core.send.FullQueues;
import io.homing.core.send.OutboundProducer;
import io.homing.core.send.SendAuthentication;
import io.homing.core.send.SendCredentials;
import io.homing.core.send.SendService;
import io.homing.core.send.SenderTokens;
import io.homing.core.state.Changelog;
import io.homing.core.state.PartitionStores;
import io.homing.core.status.CoreInternalService;
import io.homing.core.status.PartitionOwners;
import io.homing.core.status.StatusLookup;
import io.homing.core.topics.TopicInitializer;
import io.homing.runtime.Lifecycle;
import io.homing.runtime.MetricsEndpoint;
import io.homing.runtime.grpc.StandardServices;
import io.homing.runtime.tls.InternalTls;
import io.homing.runtime.tls.Reloading;
import io.homing.runtime.tls.ServerTls;
import io.micrometer.core.instrument.Gauge;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One delivery-core instance: the topics checked or created, its delivery pipelines — each a
 * member of the consumer group with its partitions' stores, its changelog producer and its edge
 * streams — and the public Send API.
 */
public final class CoreServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CoreServer.class);

  private final CoreConfig config;
  private final List<Pipeline> pipelines = new ArrayList<>();
  private FullQueues fullQueues;
  private OutboundProducer producer;
  private Server sendServer;
  private Server internalServer;
  private PartitionOwners owners;
  private StatusLookup statuses;
  private ApiKeyFile apiKeys;
  private SenderTokens senderTokens;
  private Reloading<ServerCredentials> sendTls;
  /** Credentials of the internal port other cores call; null for plaintext. */
  private Reloading<ServerCredentials> coreTls;
  /** Credentials of the delivery streams to the edges; null for plaintext. */
  private Reloading<ChannelCredentials> edgeTls;
  private MetricsEndpoint metrics;
  private Server adminServer;
  private AdminService admin;
  private ApiKeyFile adminKeys;
  private final CompletableFuture<Throwable> failed = new CompletableFuture<>();
  /** Health and reflection of the Send API's port, SERVING while no pipeline failed. */
  private final StandardServices sendStandard =
      new StandardServices(List.of(SendServiceGrpc.SERVICE_NAME));
  /** Health and reflection of the admin port. */
  private final StandardServices adminStandard =
      new StandardServices(List.of(AdminServiceGrpc.SERVICE_NAME));
  /** Health and reflection of the internal port. */
  private final StandardServices internalStandard =
      new StandardServices(List.of(CoreServiceGrpc.SERVICE_NAME));
  private boolean closed;

  /** A delivery pipeline and what it alone uses, closed in this order after it. */
  private record Pipeline(DeliveryPipeline loop, EdgeClients edges, PresenceResolver presence,
      Changelog changelog, PartitionStores stores) {}

  public CoreServer(CoreConfig config) {
    this.config = config;
  }

  /**
   * Starts every part; returns once the Send API accepts calls. A part that cannot start closes
   * what started before it and fails the start ({@link Lifecycle#startOrClose}).
   */
  public synchronized CoreServer start() {
    Lifecycle.startOrClose(this::startParts, this);
    return this;
  }

  private void startParts() {
    SendCredentials credentials = config.sendCredentials();
    apiKeys = credentials.apiKeys() == null ? null : new ApiKeyFile(credentials.apiKeys());
    senderTokens = credentials.tokens().map(SenderTokens::new).orElse(null);
    if (credentials.anyoneMayCall()) {
      log.warn("the Send API takes calls from anyone: no --send-api-keys file and no sender "
          + "tokens (docs/security.md)");
    }
    sendTls = credentials.tls().map(tls -> tls.credentials(false)).orElse(null);
    edgeTls = config.internalTls().map(InternalTls::channelCredentials).orElse(null);
    int partitions = TopicInitializer.ensureTopics(
        config.kafka(), config.topics(), config.partitions(),
        config.replicationFactor());
    metrics = new MetricsEndpoint(config.metricsAddress(), () -> !failed.isDone(),
        config.metricsTls());
    Gauge.builder("homing.partitions.owned", pipelines,
            all -> all.stream().mapToInt(p -> p.loop().ownedPartitions()).sum())
        .description("Partitions whose queues this instance holds and delivers")
        .register(metrics.registry());
    Gauge.builder("homing.queued.messages", pipelines,
            all -> all.stream().mapToLong(p -> p.loop().queuedEstimate()).sum())
        .description("Messages in the offline queues of the partitions this instance owns: "
            + "RocksDB's estimate of what is written, refreshed every second")
        .register(metrics.registry());
    Gauge.builder("homing.device.streams", pipelines,
            all -> all.stream().mapToInt(p -> p.loop().deviceStreams()).sum())
        .description("Device connections this instance streams to").register(metrics.registry());
    Gauge.builder("homing.changes.uncommitted", pipelines,
            all -> all.stream().mapToLong(p -> p.loop().uncommittedChanges()).sum())
        .description("Store changes applied and delivered from, not yet committed to the "
            + "changelog: what a crash now would leave to apply again")
        .register(metrics.registry());
    fullQueues = new FullQueues(config.redis(), config.keyPrefix());
    for (int i = 0; i < config.commits().pipelineThreads(); i++) {
      pipelines.add(startPipeline(i, partitions));
    }
    producer =
        new OutboundProducer(
            config.kafka(), config.topics().outbound(), "homing-send-" + config.instanceId());
    startStatusLookup();
    try {
      sendServer = sendStandard.addTo(
          sendTls == null
              ? NettyServerBuilder.forAddress(config.sendAddress())
              : NettyServerBuilder.forAddress(config.sendAddress(), sendTls.credentials()))
              .maxInboundMessageSize(Math.max(4 << 20, config.maxPayloadBytes() + (1 << 20)))
              .addService(ServerInterceptors.intercept(
                  new SendService(producer, fullQueues, config.maxPayloadBytes(),
                      config.sendLimits(), config.receipts(), statuses, metrics.registry()),
                  new SendAuthentication(apiKeys, senderTokens,
                      credentials.tls().flatMap(ServerTls::clientCa).isPresent(),
                      metrics.registry())))
              .build()
              .start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot listen on " + config.sendAddress(), e);
    }
    startAdmin();
    sendStandard.serving();
    internalStandard.serving();
    adminStandard.serving();
    failed.thenRun(() -> {
      sendStandard.notServing();
      internalStandard.notServing();
      adminStandard.notServing();
    });
    log.info(
        "core {} up: Send API on {}:{} ({}, {}), internal port {}, admin port {}, store {}, "
            + "{} pipeline(s), Kafka {}, Redis {}, edges {}",
        config.instanceId(),
        config.sendAddress().getHostString(),
        sendServer.getPort(),
        sendTls == null ? "plaintext" : "TLS",
        credentials.anyoneMayCall() ? "no credentials asked"
            : (apiKeys == null ? "no" : apiKeys.keys().size()) + " key file credential(s), "
                + (senderTokens == null ? "no sender tokens" : "sender tokens"),
        internalServer.getPort(),
        adminServer.getPort(),
        config.dataDir(),
        pipelines.size(),
        config.kafka(),
        config.redis(),
        edgeTls == null ? "in plaintext" : "over mutual TLS");
  }

  /** The admin API, on its own port, with the Send API's TLS (the same reloader) when set. */
  private void startAdmin() {
    admin = new AdminService(statuses, producer, config.topics(), config.groupId(),
        config.instanceId(), config.delivery().dedupWindow(), owners, config.kafka(),
        config.redis(), config.keyPrefix());
    adminKeys = config.admin().apiKeys().map(ApiKeyFile::new).orElse(null);
    if (adminKeys == null) {
      log.info("the admin API refuses every call: no --admin-api-keys file");
    }
    try {
      adminServer = adminStandard.addTo(sendTls == null
          ? NettyServerBuilder.forAddress(config.admin().address())
          : NettyServerBuilder.forAddress(config.admin().address(), sendTls.credentials()))
          .addService(ServerInterceptors.intercept(admin,
              new AdminAuthentication(adminKeys, metrics.registry())))
          .build()
          .start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot listen on " + config.admin().address(), e);
    }
  }

  /**
   * GetStatus: the registry of partition owners in Redis, the lookup over this instance's
   * pipelines and the owners', and the internal port other cores forward to.
   */
  private void startStatusLookup() {
    owners = new PartitionOwners(config.redis(), config.keyPrefix(), config.instanceId(), () -> {
      Set<Integer> owned = new HashSet<>();
      pipelines.forEach(p -> owned.addAll(p.loop().ownedPartitionNumbers()));
      return owned;
    });
    PartitionStores placement = pipelines.get(0).stores();
    statuses = new StatusLookup(() -> pipelines.stream().map(Pipeline::loop).toList(), owners,
        placement::partitionOf, config.instanceId(),
        edgeTls == null ? null : edgeTls.credentials());
    coreTls = config.internalTls().map(InternalTls::serverCredentials).orElse(null);
    try {
      internalServer = internalStandard.addTo(coreTls == null
          ? NettyServerBuilder.forAddress(config.internalAddress())
          : NettyServerBuilder.forAddress(config.internalAddress(), coreTls.credentials()))
          .addService(new CoreInternalService(statuses, config.instanceId()))
          .build()
          .start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot listen on " + config.internalAddress(), e);
    }
    owners.start(config.advertisedInternal().isBlank()
        ? config.internalAddress().getHostString() + ':' + internalServer.getPort()
        : config.advertisedInternal());
  }

  /**
   * Pipeline 0 is named after the instance; the others add their number. The names are their
   * consumers' static group member ids and, scoped by the group (which is per deployment), their
   * changelog producers' transactional ids: stable across restarts, so a restarted instance
   * fences and replaces its previous life.
   */
  private Pipeline startPipeline(int index, int partitions) {
    String name = index == 0 ? config.instanceId() : config.instanceId() + "-" + index;
    // What started so far, closed in reverse should a later part fail: a pipeline enters
    // `pipelines`, which close() stops, only once it runs.
    Deque<AutoCloseable> started = new ArrayDeque<>();
    try {
      Changelog changelog = opened(started, new Changelog(config.kafka(),
          config.topics(), config.receipts(),
          config.groupId() + "." + name, metrics.registry()));
      PartitionStores stores =
          opened(started, new PartitionStores(config.dataDir(), partitions, changelog));
      PresenceResolver presence =
          opened(started, new PresenceResolver(config.redis(), config.keyPrefix()));
      EdgeClients edges = opened(started,
          new EdgeClients(edgeTls == null ? null : edgeTls.credentials(),
              config.internalTls().flatMap(InternalTls::serverName), metrics.registry()));
      DeliveryPipeline loop =
          opened(started, new DeliveryPipeline(
              config.kafka(),
              config.topics(),
              config.groupId(),
              "homing-core-" + name,
              stores,
              changelog,
              config.commits(),
              config.defaultTtl(),
              config.delivery(),
              config.notifications(),
              config.receipts(),
              config.queues(),
              config.devices(),
              presence,
              edges,
              fullQueues,
              metrics.registry()));
      loop.failed().thenAccept(failed::complete);
      loop.start();
      return new Pipeline(loop, edges, presence, changelog, stores);
    } catch (RuntimeException e) {
      while (!started.isEmpty()) {
        try {
          started.pop().close();
        } catch (Exception suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw e;
    }
  }

  private static <T extends AutoCloseable> T opened(Deque<AutoCloseable> started, T part) {
    started.push(part);
    return part;
  }

  /**
   * Completes with the error that stopped a delivery pipeline; see
   * {@link DeliveryPipeline#failed()}.
   */
  public CompletableFuture<Throwable> failed() {
    return failed;
  }

  /** Where /metrics and /health are served (the real port when configured with port 0). */
  public InetSocketAddress metricsAddress() {
    return metrics.address();
  }

  /** The bound admin port (the real one when configured with port 0). */
  public int adminPort() {
    return adminServer.getPort();
  }

  /** The bound internal port (the real one when configured with port 0). */
  public int internalPort() {
    return internalServer.getPort();
  }

  /** The bound Send API port (the real one when configured with port 0). */
  public int sendPort() {
    return sendServer.getPort();
  }

  /**
   * Stops the Send API (in-flight calls get 2 s), then the pipelines (each commits what it
   * applied), their edge streams, presence, changelog and stores, the producer, and last the
   * metrics. Idempotent.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    sendStandard.shutdown();
    internalStandard.shutdown();
    if (sendServer != null) {
      sendServer.shutdown();
      try {
        sendServer.awaitTermination(2, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      sendServer.shutdownNow();
    }
    adminStandard.shutdown();
    if (adminServer != null) {
      adminServer.shutdownNow();
    }
    if (admin != null) {
      admin.close();
    }
    if (adminKeys != null) {
      adminKeys.close();
    }
    if (internalServer != null) {
      internalServer.shutdownNow();
    }
    if (owners != null) {
      owners.close();
    }
    if (statuses != null) {
      statuses.close();
    }
    if (coreTls != null) {
      coreTls.close();
    }
    if (apiKeys != null) {
      apiKeys.close();
    }
    if (senderTokens != null) {
      senderTokens.close();
    }
    if (sendTls != null) {
      sendTls.close();
    }
    pipelines.forEach(p -> p.loop().stop());
    pipelines.forEach(p -> p.loop().close());
    for (Pipeline p : pipelines) {
      p.edges().close();
      p.presence().close();
      p.changelog().close();
      p.stores().close();
    }
    if (edgeTls != null) {
      edgeTls.close();
    }
    if (fullQueues != null) {
      fullQueues.close();
    }
    if (producer != null) {
      producer.close();
    }
    if (metrics != null) {
      metrics.close();
    }
  }
}
