package io.homing.core;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.homing.core.pipeline.DeliveryPipeline;
import io.homing.core.routing.EdgeClients;
import io.homing.core.routing.PresenceResolver;
import io.homing.core.send.FullQueues;
import io.homing.core.send.OutboundProducer;
import io.homing.core.send.SendService;
import io.homing.core.state.Changelog;
import io.homing.core.state.PartitionStores;
import io.homing.core.topics.TopicInitializer;
import io.homing.runtime.MetricsEndpoint;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One delivery-core instance: the topics checked or created, the offline stores of the partitions
 * it owns with their changelog, the delivery pipeline over those partitions, and the public Send
 * API.
 */
public final class CoreServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CoreServer.class);

  private final CoreConfig config;
  private Changelog changelog;
  private PartitionStores stores;
  private PresenceResolver presence;
  private FullQueues fullQueues;
  private EdgeClients edges;
  private DeliveryPipeline pipeline;
  private OutboundProducer producer;
  private Server sendServer;
  private MetricsEndpoint metrics;
  private boolean closed;

  public CoreServer(CoreConfig config) {
    this.config = config;
  }

  /** Starts every part; returns once the Send API accepts calls. */
  public synchronized CoreServer start() {
    int partitions = TopicInitializer.ensureTopics(
        config.kafkaBootstrap(), config.topics(), config.partitions(),
        config.replicationFactor());
    metrics = new MetricsEndpoint(config.metricsAddress(),
        () -> pipeline != null && !pipeline.failed().isDone());
    // Transactional ids are cluster-wide: scoped by the group, which is per deployment.
    changelog = new Changelog(config.kafkaBootstrap(), config.topics().storeChangelog(),
        config.groupId() + "." + config.instanceId(), metrics.registry());
    stores = new PartitionStores(config.dataDir(), partitions, changelog);
    presence = new PresenceResolver(config.redisUri(), config.keyPrefix());
    fullQueues = new FullQueues(config.redisUri(), config.keyPrefix());
    edges = new EdgeClients();
    pipeline =
        new DeliveryPipeline(
            config.kafkaBootstrap(),
            config.topics(),
            config.groupId(),
            "homing-core-" + config.instanceId(),
            stores,
            changelog,
            config.defaultTtl(),
            config.delivery(),
            config.queues(),
            config.devices(),
            presence,
            edges,
            fullQueues,
            metrics.registry());
    pipeline.start();
    producer =
        new OutboundProducer(
            config.kafkaBootstrap(), config.topics().outbound(), "homing-send-" + config.instanceId());
    try {
      sendServer =
          NettyServerBuilder.forAddress(config.sendAddress())
              .maxInboundMessageSize(Math.max(4 << 20, config.maxPayloadBytes() + (1 << 20)))
              .addService(new SendService(producer, fullQueues, config.maxPayloadBytes()))
              .build()
              .start();
    } catch (IOException e) {
      close();
      throw new UncheckedIOException("cannot listen on " + config.sendAddress(), e);
    }
    log.info(
        "core {} up: Send API on {}:{}, store {}",
        config.instanceId(),
        config.sendAddress().getHostString(),
        sendServer.getPort(),
        config.dataDir());
    return this;
  }

  /** Completes with the error that stopped delivery; see {@link DeliveryPipeline#failed()}. */
  public CompletableFuture<Throwable> failed() {
    return pipeline.failed();
  }

  /** Where /metrics and /health are served (the real port when configured with port 0). */
  public InetSocketAddress metricsAddress() {
    return metrics.address();
  }

  /** The bound Send API port (the real one when configured with port 0). */
  public int sendPort() {
    return sendServer.getPort();
  }

  /**
   * Stops the Send API (in-flight calls get 2 s), then the pipeline (it finishes its batch), then
   * the edge streams, presence, the producer, the changelog and last the stores. Idempotent.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (sendServer != null) {
      sendServer.shutdown();
      try {
        sendServer.awaitTermination(2, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      sendServer.shutdownNow();
    }
    if (pipeline != null) {
      pipeline.close();
    }
    if (edges != null) {
      edges.close();
    }
    if (presence != null) {
      presence.close();
    }
    if (fullQueues != null) {
      fullQueues.close();
    }
    if (producer != null) {
      producer.close();
    }
    if (changelog != null) {
      changelog.close();
    }
    if (stores != null) {
      stores.close();
    }
    if (metrics != null) {
      metrics.close();
    }
  }
}
