package io.homing.core.routing;

import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.homing.api.v1.DeliveryBatch;
import io.homing.api.v1.DeliveryReceipt;
import io.homing.api.v1.DeliveryResult;
import io.homing.api.v1.DeliveryResults;
import io.homing.api.v1.EdgeServiceGrpc;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One long-lived delivery stream per edge node, opened on first use and reopened after it breaks.
 * A delivery lost with a broken stream is not lost for the user: it stays in the offline store
 * until acked and goes out again when the device reconnects.
 *
 * <p>The edge answers every batch with one result per delivery, in order. For the deliveries of
 * messages that asked for receipts, a WRITTEN result becomes a DELIVERED receipt, collected for
 * the pipeline to publish ({@link #takeWritten}). A stream that breaks takes the receipts of its
 * unanswered batches with it: DELIVERED is best effort.
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
  /** DELIVERED receipts of the results, from gRPC threads to the pipeline. */
  private final Queue<DeliveryReceipt> written = new ConcurrentLinkedQueue<>();

  /**
   * A delivery whose WRITTEN result makes a receipt: its index in the batch, and the receipt,
   * which gets its time when the result arrives.
   */
  public record Watch(int index, DeliveryReceipt receipt) {}

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

  /**
   * Sends the batch to the node listening at {@code address}; the {@code watched} deliveries'
   * receipts are collected if the edge writes them.
   */
  public void send(String nodeId, String address, DeliveryBatch batch, List<Watch> watched) {
    EdgeLink link = links.get(nodeId);
    if (link == null || link.broken || !link.address.equals(address)) {
      if (link != null) {
        link.close();
      }
      link = new EdgeLink(nodeId, address, channel(address), failures, written);
      links.put(nodeId, link);
    }
    link.send(batch, watched);
  }

  /** Hands every DELIVERED receipt collected so far to {@code sink}. Pipeline thread. */
  public void takeWritten(Consumer<DeliveryReceipt> sink) {
    DeliveryReceipt receipt;
    while ((receipt = written.poll()) != null) {
      sink.accept(receipt);
    }
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
    /** The watched deliveries of one batch, by the batch's number on this stream. */
    private record Watched(long batch, List<Watch> deliveries) {}

    private final Counter failures;
    private final Queue<DeliveryReceipt> written;
    private final Queue<Watched> watched = new ConcurrentLinkedQueue<>();
    /** Batches sent, on the pipeline thread. */
    private long sent;
    /** Batches answered, on gRPC's threads (one at a time: a stream's answers are serial). */
    private long answered;
    final String nodeId;
    final String address;
    final ManagedChannel channel;
    final StreamObserver<DeliveryBatch> requests;
    volatile boolean broken;
    private volatile boolean closing;

    EdgeLink(String nodeId, String address, ManagedChannel channel, Counter failures,
        Queue<DeliveryReceipt> written) {
      this.failures = failures;
      this.written = written;
      this.nodeId = nodeId;
      this.address = address;
      this.channel = channel;
      this.requests = EdgeServiceGrpc.newStub(channel).deliver(this);
    }

    void send(DeliveryBatch batch, List<Watch> deliveries) {
      if (!deliveries.isEmpty()) {
        watched.add(new Watched(sent, deliveries)); // before the answer can come
      }
      sent++;
      requests.onNext(batch);
    }

    @Override
    public void onNext(DeliveryResults results) {
      long batch = answered++;
      Watched head = watched.peek();
      while (head != null && head.batch() < batch) { // cannot happen: one answer per batch
        watched.poll();
        head = watched.peek();
      }
      if (head != null && head.batch() == batch) {
        watched.poll();
        long now = System.currentTimeMillis();
        for (Watch w : head.deliveries()) {
          if (w.index() < results.getResultsCount()
              && isWritten(results.getResults(w.index()), w.receipt())) {
            written.add(w.receipt().toBuilder().setAtMs(now).build());
          }
        }
      }
      if (log.isDebugEnabled()) {
        long missed =
            results.getResultsList().stream()
                .filter(r -> r.getOutcome() != DeliveryResult.Outcome.WRITTEN)
                .count();
        log.debug("edge {}: {} delivered, {} not connected", nodeId,
            results.getResultsCount() - missed, missed);
      }
    }

    private static boolean isWritten(DeliveryResult result, DeliveryReceipt receipt) {
      return result.getOutcome() == DeliveryResult.Outcome.WRITTEN
          && result.getSeq() == receipt.getSeq()
          && result.getDeviceId().equals(receipt.getDeviceId())
          && result.getUserId().equals(receipt.getUserId());
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
