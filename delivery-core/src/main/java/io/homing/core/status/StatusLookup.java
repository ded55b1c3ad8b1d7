package io.homing.core.status;

import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.homing.api.v1.CoreServiceGrpc;
import io.homing.api.v1.GetStatusRequest;
import io.homing.api.v1.GetStatusResponse;
import io.homing.core.pipeline.DeliveryPipeline;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.function.ToIntFunction;

/**
 * Answers GetStatus: from this instance's pipelines when one owns the user's partition, else from
 * the owner, found in {@link PartitionOwners} and called on its internal port
 * ({@link CoreInternalService}). Thread-safe.
 */
public final class StatusLookup implements AutoCloseable {
  /** How long a forwarded call may take. */
  static final long FORWARD_DEADLINE_SECONDS = 5;

  private final Supplier<List<DeliveryPipeline>> pipelines;
  private final PartitionOwners owners;
  private final ToIntFunction<String> partitionOf;
  private final String instanceId;
  private final ChannelCredentials tls;
  private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();

  /**
   * @param partitionOf the partition of a user id (Kafka's default partitioner)
   * @param tls credentials for calling other cores; null for plaintext
   */
  public StatusLookup(Supplier<List<DeliveryPipeline>> pipelines, PartitionOwners owners,
      ToIntFunction<String> partitionOf, String instanceId, ChannelCredentials tls) {
    this.pipelines = pipelines;
    this.owners = owners;
    this.partitionOf = partitionOf;
    this.instanceId = instanceId;
    this.tls = tls;
  }

  /**
   * The message's status as this instance sees it; null when it does not own the user's
   * partition. Fails with NOT_FOUND when the id is not remembered.
   */
  public CompletableFuture<GetStatusResponse> local(String userId, String messageId) {
    List<CompletableFuture<DeliveryPipeline.StatusAnswer>> answers = pipelines.get().stream()
        .map(p -> p.status(userId, messageId)).toList();
    return CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).thenApply(all -> {
      for (CompletableFuture<DeliveryPipeline.StatusAnswer> a : answers) {
        DeliveryPipeline.StatusAnswer answer = a.join();
        if (answer.owned()) {
          if (answer.status() == null) {
            throw Status.NOT_FOUND.withDescription("message '" + messageId
                + "' is not remembered for user '" + userId + "': never sent to her, or "
                + "accepted longer ago than core's --dedup-window").asRuntimeException();
          }
          return answer.status().toBuilder().setAnsweredBy(instanceId).build();
        }
      }
      return null;
    });
  }

  /** The message's status, from this instance or the owner of the user's partition. */
  public CompletableFuture<GetStatusResponse> status(String userId, String messageId) {
    return local(userId, messageId).thenCompose(found -> found != null
        ? CompletableFuture.completedFuture(found) : forward(userId, messageId));
  }

  private CompletableFuture<GetStatusResponse> forward(String userId, String messageId) {
    int partition = partitionOf.applyAsInt(userId);
    return owners.ownerOf(partition).thenCompose(owner -> {
      if (owner == null || owner.instanceId().equals(instanceId)) {
        throw Status.UNAVAILABLE.withDescription("partition " + partition
            + " has no owner right now (it is moving between cores): retry")
            .asRuntimeException();
      }
      CompletableFuture<GetStatusResponse> answer = new CompletableFuture<>();
      CoreServiceGrpc.newStub(channel(owner.address()))
          .withDeadlineAfter(FORWARD_DEADLINE_SECONDS, TimeUnit.SECONDS)
          .getStatus(GetStatusRequest.newBuilder().setUserId(userId).setMessageId(messageId)
              .build(), new StreamObserver<>() {
                @Override
                public void onNext(GetStatusResponse value) {
                  answer.complete(value);
                }

                @Override
                public void onError(Throwable t) {
                  answer.completeExceptionally(t);
                }

                @Override
                public void onCompleted() {
                  answer.completeExceptionally(Status.INTERNAL
                      .withDescription("no answer from " + owner.instanceId())
                      .asRuntimeException());
                }
              });
      return answer;
    });
  }

  private ManagedChannel channel(String address) {
    return channels.computeIfAbsent(address, a -> (tls == null
        ? NettyChannelBuilder.forTarget(a).usePlaintext()
        : NettyChannelBuilder.forTarget(a, tls)).build());
  }

  /** The gRPC status a failed lookup answers with. */
  public static StatusRuntimeException asStatus(Throwable error) {
    Throwable cause = error;
    while (cause.getCause() != null && !(cause instanceof StatusRuntimeException)) {
      cause = cause.getCause();
    }
    return cause instanceof StatusRuntimeException s ? s
        : Status.UNAVAILABLE.withDescription("status lookup failed: " + cause).withCause(cause)
            .asRuntimeException();
  }

  @Override
  public void close() {
    channels.values().forEach(ManagedChannel::shutdownNow);
  }
}
