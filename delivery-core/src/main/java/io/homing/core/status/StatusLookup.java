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
import io.homing.api.v1.GetUserRequest;
import io.homing.api.v1.KickDeviceRequest;
import io.homing.api.v1.KickDeviceResponse;
import io.homing.api.v1.UserInfo;
import io.homing.core.pipeline.DeliveryPipeline;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.ToIntFunction;

/**
 * Answers GetStatus and the admin API's questions about a user (GetUser, KickDevice): from this
 * instance's pipelines when one owns the user's partition, else from the owner, found in
 * {@link PartitionOwners} and called on its internal port ({@link CoreInternalService}).
 * Thread-safe.
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
    return local(p -> p.status(userId, messageId), () -> Status.NOT_FOUND.withDescription(
        "message '" + messageId + "' is not remembered for user '" + userId + "': never sent "
            + "to her, or accepted longer ago than core's --dedup-window"))
        .thenApply(found -> found == null ? null
            : found.toBuilder().setAnsweredBy(instanceId).build());
  }

  /** The message's status, from this instance or the owner of the user's partition. */
  public CompletableFuture<GetStatusResponse> status(String userId, String messageId) {
    return local(userId, messageId).thenCompose(found -> found != null
        ? CompletableFuture.completedFuture(found)
        : forward(userId, (stub, answer) -> stub.getStatus(GetStatusRequest.newBuilder()
            .setUserId(userId).setMessageId(messageId).build(), answer)));
  }

  /**
   * The user as the admin API shows her, from this instance when it owns her partition (else
   * null); a user never heard of shows empty.
   */
  public CompletableFuture<UserInfo> localUser(String userId) {
    return local(p -> p.userInfo(userId), null).thenApply(found -> found == null ? null
        : found.toBuilder().setAnsweredBy(instanceId).build());
  }

  /** The user as the admin API shows her, from this instance or the owner of her partition. */
  public CompletableFuture<UserInfo> user(String userId) {
    return localUser(userId).thenCompose(found -> found != null
        ? CompletableFuture.completedFuture(found)
        : forward(userId, (stub, answer) -> stub.getUser(
            GetUserRequest.newBuilder().setUserId(userId).build(), answer)));
  }

  /** Kicks the user's device (all of hers for an empty id) here, if this instance owns her. */
  public CompletableFuture<KickDeviceResponse> localKick(KickDeviceRequest request) {
    return local(p -> p.kick(request.getUserId(), request.getDeviceId(), request.getReason()),
        null).thenApply(kicked -> kicked == null ? null
            : KickDeviceResponse.newBuilder().addAllKickedDeviceIds(kicked).build());
  }

  /** Kicks the user's device (all of hers for an empty id), here or on the owner. */
  public CompletableFuture<KickDeviceResponse> kick(KickDeviceRequest request) {
    return localKick(request).thenCompose(found -> found != null
        ? CompletableFuture.completedFuture(found)
        : forward(request.getUserId(), (stub, answer) -> stub.kickDevice(request, answer)));
  }

  /**
   * What the pipeline that owns the user's partition answers; null when none here does. An
   * owner's null answer fails with {@code absent}'s status (questions without {@code absent}
   * always have an answer).
   */
  private <T> CompletableFuture<T> local(
      Function<DeliveryPipeline, CompletableFuture<DeliveryPipeline.Answer<T>>> ask,
      Supplier<Status> absent) {
    List<CompletableFuture<DeliveryPipeline.Answer<T>>> answers =
        pipelines.get().stream().map(ask).toList();
    return CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).thenApply(all -> {
      for (CompletableFuture<DeliveryPipeline.Answer<T>> a : answers) {
        DeliveryPipeline.Answer<T> answer = a.join();
        if (answer.owned()) {
          if (answer.value() == null && absent != null) {
            throw absent.get().asRuntimeException();
          }
          return answer.value();
        }
      }
      return null;
    });
  }

  /** Calls the owner of the user's partition on its internal port. */
  private <T> CompletableFuture<T> forward(String userId,
      BiConsumer<CoreServiceGrpc.CoreServiceStub, StreamObserver<T>> call) {
    int partition = partitionOf.applyAsInt(userId);
    return owners.ownerOf(partition).thenCompose(owner -> {
      if (owner == null || owner.instanceId().equals(instanceId)) {
        throw Status.UNAVAILABLE.withDescription("partition " + partition
            + " has no owner right now (it is moving between cores): retry")
            .asRuntimeException();
      }
      CompletableFuture<T> answer = new CompletableFuture<>();
      call.accept(CoreServiceGrpc.newStub(channel(owner.address()))
          .withDeadlineAfter(FORWARD_DEADLINE_SECONDS, TimeUnit.SECONDS), new StreamObserver<>() {
            @Override
            public void onNext(T value) {
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
