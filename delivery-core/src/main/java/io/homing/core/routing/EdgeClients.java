package io.homing.core.routing;

import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.homing.api.v1.DeliveryBatch;
import io.homing.api.v1.DeliveryResult;
import io.homing.api.v1.DeliveryResults;
import io.homing.api.v1.EdgeServiceGrpc;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One long-lived delivery stream per edge node, opened on first use and reopened after it breaks.
 * A delivery lost with a broken stream is not lost for the user: it stays in the offline store
 * until acked and goes out again when the device reconnects.
 *
 * <p>Called from the pipeline thread only; gRPC answers arrive on gRPC's threads.
 */
public final class EdgeClients implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EdgeClients.class);

  private final Map<String, EdgeLink> links = new HashMap<>();
  /** Null for plaintext. */
  private final ChannelCredentials tls;
  private final Optional<String> serverName;
  private final Counter failures;

  /**
   * @param tls mutual TLS to every edge, or null for plaintext
   * @param serverName the name an edge's certificate must hold in place of its host, if any
   */
  public EdgeClients(ChannelCredentials tls, Optional<String> serverName, MeterRegistry meters) {
    this.tls = tls;
    this.serverName = serverName;
    this.failures = Counter.builder("homing.edge.stream.failures")
        .description("Delivery streams to an edge that broke or could not be opened: the edge "
            + "went away, or refused or failed the TLS handshake")
        .register(meters);
  }

  /** Sends the batch to the node listening at {@code address}. */
  public void send(String nodeId, String address, DeliveryBatch batch) {
    EdgeLink link = links.get(nodeId);
    if (link == null || link.broken || !link.address.equals(address)) {
      if (link != null) {
        link.close();
      }
      link = new EdgeLink(nodeId, address, channel(address), failures);
      links.put(nodeId, link);
    }
    link.requests.onNext(batch);
  }

  /**
   * A channel to the edge at {@code address}. With TLS, the edge's certificate must chain to the
   * internal CA and name the address's host or the configured server name: an address in Redis
   * that points elsewhere cannot receive messages.
   */
  private ManagedChannel channel(String address) {
    // The answers are only counted and logged: no executor hop for them.
    if (tls == null) {
      return NettyChannelBuilder.forTarget(address).usePlaintext().directExecutor().build();
    }
    NettyChannelBuilder builder = NettyChannelBuilder.forTarget(address, tls).directExecutor();
    serverName.ifPresent(builder::overrideAuthority);
    return builder.build();
  }

  @Override
  public void close() {
    links.values().forEach(EdgeLink::close);
    links.clear();
  }

  private static final class EdgeLink implements StreamObserver<DeliveryResults> {
    private final Counter failures;
    final String nodeId;
    final String address;
    final ManagedChannel channel;
    final StreamObserver<DeliveryBatch> requests;
    volatile boolean broken;
    private volatile boolean closing;

    EdgeLink(String nodeId, String address, ManagedChannel channel, Counter failures) {
      this.failures = failures;
      this.nodeId = nodeId;
      this.address = address;
      this.channel = channel;
      this.requests = EdgeServiceGrpc.newStub(channel).deliver(this);
    }

    @Override
    public void onNext(DeliveryResults results) {
      if (log.isDebugEnabled()) {
        long missed =
            results.getResultsList().stream()
                .filter(r -> r.getOutcome() != DeliveryResult.Outcome.WRITTEN)
                .count();
        log.debug("edge {}: {} delivered, {} not connected", nodeId,
            results.getResultsCount() - missed, missed);
      }
    }

    @Override
    public void onError(Throwable t) {
      broken = true;
      if (closing) {
        return; // our own cancellation
      }
      failures.increment();
      log.warn("delivery stream to edge {} at {} broke: {}", nodeId, address, t.toString());
    }

    @Override
    public void onCompleted() {
      broken = true;
    }

    void close() {
      closing = true;
      try {
        requests.onCompleted();
      } catch (RuntimeException ignored) {
        // the stream is already gone
      }
      channel.shutdown();
      try {
        channel.awaitTermination(1, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      channel.shutdownNow();
    }
  }
}
