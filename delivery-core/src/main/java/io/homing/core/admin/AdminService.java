package io.homing.core.admin;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.homing.api.Limits;
import io.homing.api.PresenceKeys;
import io.homing.api.Topics;
import io.homing.api.v1.AdminServiceGrpc;
import io.homing.api.v1.DeliveryEvent;
import io.homing.api.v1.EdgeInfo;
import io.homing.api.v1.EraseUserRequest;
import io.homing.api.v1.EraseUserResponse;
import io.homing.api.v1.GetUserRequest;
import io.homing.api.v1.KickDeviceRequest;
import io.homing.api.v1.KickDeviceResponse;
import io.homing.api.v1.ListEdgesRequest;
import io.homing.api.v1.ListEdgesResponse;
import io.homing.api.v1.ListPartitionsRequest;
import io.homing.api.v1.ListPartitionsResponse;
import io.homing.api.v1.PartitionInfo;
import io.homing.api.v1.SetPausedRequest;
import io.homing.api.v1.UserInfo;
import io.homing.core.send.OutboundProducer;
import io.homing.core.send.Sender;
import io.homing.core.status.PartitionOwners;
import io.homing.core.status.StatusLookup;
import io.homing.runtime.kafka.KafkaConnection;
import io.homing.runtime.redis.Redis;
import io.homing.runtime.redis.RedisConnection;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin API (admin.proto): questions about a user go to the owner of her partition
 * ({@link StatusLookup}); erasing and pausing are events written to her {@code delivery-events}
 * partition, so that they apply in order with her other records, on whichever core owns her then,
 * and survive a failover like any record — the call waits until the owner applied its event. The
 * cluster views read Redis (edges, partition owners) and Kafka (the group's offsets). Calls that
 * block (Kafka, Redis scans, the waits) run on gRPC's executor, not on an event loop.
 */
public final class AdminService extends AdminServiceGrpc.AdminServiceImplBase
    implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AdminService.class);
  /** How long EraseUser and SetPaused wait for the owner to apply their event. */
  static final Duration APPLY_WAIT = Duration.ofSeconds(10);
  /** How long a call to Kafka or Redis may take. */
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final long POLL_MS = 50;

  private final StatusLookup lookup;
  private final OutboundProducer producer;
  private final Topics topics;
  private final String groupId;
  private final String instanceId;
  private final Duration dedupWindow;
  private final PartitionOwners owners;
  private final PresenceKeys keys;
  private final String keyPrefix;
  private final Redis redis;
  private final Admin kafka;

  public AdminService(StatusLookup lookup, OutboundProducer producer, Topics topics,
      String groupId, String instanceId, Duration dedupWindow, PartitionOwners owners,
      KafkaConnection kafka, RedisConnection redis, String keyPrefix) {
    this.lookup = lookup;
    this.producer = producer;
    this.topics = topics;
    this.groupId = groupId;
    this.instanceId = instanceId;
    this.dedupWindow = dedupWindow;
    this.owners = owners;
    this.keys = new PresenceKeys(keyPrefix);
    this.keyPrefix = keyPrefix;
    this.redis = redis.open();
    Map<String, Object> config = kafka.clientConfig();
    config.put("client.id", "homing-admin-" + instanceId);
    this.kafka = Admin.create(config);
  }

  @Override
  public void getUser(GetUserRequest request, StreamObserver<UserInfo> response) {
    String user = request.getUserId();
    if (refused(user, response)) {
      return;
    }
    reply(lookup.user(user).thenApply(info -> {
      if (isEmpty(info)) {
        throw Status.NOT_FOUND.withDescription("core has no state of user '" + user
            + "': no message was queued for her and no device of hers connected")
            .asRuntimeException();
      }
      return info;
    }), response);
  }

  @Override
  public void kickDevice(KickDeviceRequest request, StreamObserver<KickDeviceResponse> response) {
    String user = request.getUserId();
    if (refused(user, response)) {
      return;
    }
    if (!request.getDeviceId().isEmpty() && !Limits.isValidId(request.getDeviceId())) {
      response.onError(Status.INVALID_ARGUMENT.withDescription("device_id must be empty (every "
          + "device) or " + Limits.ID_RULE).asRuntimeException());
      return;
    }
    String reason = request.getReason().isBlank()
        ? "closed by an operator (" + AdminAuthentication.operator().name() + ")"
        : request.getReason();
    log.info("operator {} kicks {}/{}: {}", AdminAuthentication.operator().name(), user,
        request.getDeviceId().isEmpty() ? "*" : request.getDeviceId(), reason);
    reply(lookup.kick(request.toBuilder().setReason(reason).build()), response);
  }

  @Override
  public void eraseUser(EraseUserRequest request, StreamObserver<EraseUserResponse> response) {
    String user = request.getUserId();
    if (refused(user, response)) {
      return;
    }
    log.info("operator {} erases user {}", AdminAuthentication.operator().name(), user);
    DeliveryEvent event = event(user).setUserErased(DeliveryEvent.UserErased.getDefaultInstance())
        .build();
    try {
      Applied applied = writeAndAwait(user, event);
      response.onNext(EraseUserResponse.newBuilder()
          .setUser(applied.user())
          .setApplied(applied.applied())
          .addAllRemains(remains())
          .build());
      response.onCompleted();
    } catch (StatusRuntimeException e) {
      response.onError(e);
    }
  }

  @Override
  public void setPaused(SetPausedRequest request, StreamObserver<UserInfo> response) {
    String user = request.getUserId();
    if (refused(user, response)) {
      return;
    }
    log.info("operator {} {} delivery to user {}", AdminAuthentication.operator().name(),
        request.getPaused() ? "pauses" : "resumes", user);
    DeliveryEvent event = event(user).setDeliveryPaused(
        DeliveryEvent.DeliveryPaused.newBuilder().setPaused(request.getPaused())).build();
    try {
      Applied applied = writeAndAwait(user, event);
      if (!applied.applied()) {
        throw Status.DEADLINE_EXCEEDED.withDescription("the event is written to "
            + topics.deliveryEvents() + " but its owner did not apply it within " + APPLY_WAIT
            + ": it applies once the owner catches up").asRuntimeException();
      }
      response.onNext(applied.user());
      response.onCompleted();
    } catch (StatusRuntimeException e) {
      response.onError(e);
    }
  }

  @Override
  public void listEdges(ListEdgesRequest request, StreamObserver<ListEdgesResponse> response) {
    if (refusedClusterView(response)) {
      return;
    }
    try {
      String pattern = globEscaped(keys.edge("")) + "*";
      ListEdgesResponse.Builder edges = ListEdgesResponse.newBuilder();
      List<String> found = new ArrayList<>();
      ScanCursor cursor = ScanCursor.INITIAL;
      do {
        KeyScanCursor<String> page = redis.async()
            .scan(cursor, ScanArgs.Builder.matches(pattern).limit(500))
            .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        found.addAll(page.getKeys());
        cursor = page;
      } while (!cursor.isFinished());
      List<String> sorted = found.stream().sorted().toList();
      List<CompletableFuture<String>> addresses = new ArrayList<>();
      List<CompletableFuture<Long>> ttls = new ArrayList<>();
      for (String key : sorted) {
        addresses.add(redis.async().get(key).toCompletableFuture());
        ttls.add(redis.async().pttl(key).toCompletableFuture());
      }
      for (int i = 0; i < sorted.size(); i++) {
        String key = sorted.get(i);
        String address = addresses.get(i).get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        Long ttl = ttls.get(i).get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        if (address != null) {
          edges.addEdges(EdgeInfo.newBuilder()
              .setNodeId(key.substring(keyPrefix.length() + "edge:".length()))
              .setAddress(address)
              .setTtlMs(ttl == null ? -1 : ttl));
        }
      }
      response.onNext(edges.build());
      response.onCompleted();
    } catch (ExecutionException | TimeoutException | RuntimeException e) {
      response.onError(unavailable("Redis", e));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      response.onError(Status.CANCELLED.asRuntimeException());
    }
  }

  @Override
  public void listPartitions(ListPartitionsRequest request,
      StreamObserver<ListPartitionsResponse> response) {
    if (refusedClusterView(response)) {
      return;
    }
    try {
      long timeout = TIMEOUT.toMillis();
      int partitions = kafka.describeTopics(List.of(topics.outbound())).allTopicNames()
          .get(timeout, TimeUnit.MILLISECONDS).get(topics.outbound()).partitions().size();
      Map<TopicPartition, OffsetAndMetadata> committed = kafka.listConsumerGroupOffsets(groupId)
          .partitionsToOffsetAndMetadata().get(timeout, TimeUnit.MILLISECONDS);
      Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
      Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
      for (int p = 0; p < partitions; p++) {
        for (String topic : List.of(topics.outbound(), topics.deliveryEvents())) {
          latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
          earliest.put(new TopicPartition(topic, p), OffsetSpec.earliest());
        }
      }
      // Read-committed: the end a read-committed consumer (core) reaches, not an open
      // transaction's records.
      ListOffsetsOptions committedOnly = new ListOffsetsOptions(IsolationLevel.READ_COMMITTED);
      Map<TopicPartition, Long> ends = new HashMap<>();
      kafka.listOffsets(latest, committedOnly).all().get(timeout, TimeUnit.MILLISECONDS)
          .forEach((partition, info) -> ends.put(partition, info.offset()));
      Map<TopicPartition, Long> starts = new HashMap<>();
      kafka.listOffsets(earliest, committedOnly).all().get(timeout, TimeUnit.MILLISECONDS)
          .forEach((partition, info) -> starts.put(partition, info.offset()));
      List<CompletableFuture<PartitionOwners.Owner>> ownerOf = new ArrayList<>();
      for (int p = 0; p < partitions; p++) {
        ownerOf.add(owners.ownerOf(p));
      }
      ListPartitionsResponse.Builder answer = ListPartitionsResponse.newBuilder()
          .setGroupId(groupId);
      for (int p = 0; p < partitions; p++) {
        PartitionOwners.Owner owner = ownerOf.get(p).get(timeout, TimeUnit.MILLISECONDS);
        TopicPartition outbound = new TopicPartition(topics.outbound(), p);
        TopicPartition events = new TopicPartition(topics.deliveryEvents(), p);
        long outboundAt = offset(committed.get(outbound));
        long eventsAt = offset(committed.get(events));
        long outboundEnd = ends.getOrDefault(outbound, 0L);
        long eventsEnd = ends.getOrDefault(events, 0L);
        // Without a committed offset the group starts from the earliest record still there.
        long outboundFrom = outboundAt >= 0 ? outboundAt : starts.getOrDefault(outbound, 0L);
        long eventsFrom = eventsAt >= 0 ? eventsAt : starts.getOrDefault(events, 0L);
        answer.addPartitions(PartitionInfo.newBuilder()
            .setPartition(p)
            .setOwner(owner == null ? "" : owner.instanceId())
            .setOwnerAddress(owner == null ? "" : owner.address())
            .setOutboundCommitted(outboundAt)
            .setOutboundEnd(outboundEnd)
            .setOutboundLag(Math.max(0, outboundEnd - outboundFrom))
            .setEventsCommitted(eventsAt)
            .setEventsEnd(eventsEnd)
            .setEventsLag(Math.max(0, eventsEnd - eventsFrom)));
      }
      response.onNext(answer.build());
      response.onCompleted();
    } catch (ExecutionException | TimeoutException | RuntimeException e) {
      response.onError(unavailable("Kafka or Redis", e));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      response.onError(Status.CANCELLED.asRuntimeException());
    }
  }

  /** The pattern of SCAN that matches {@code literal} itself: glob characters escaped. */
  static String globEscaped(String literal) {
    StringBuilder escaped = new StringBuilder(literal.length());
    for (char c : literal.toCharArray()) {
      if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') {
        escaped.append('\\');
      }
      escaped.append(c);
    }
    return escaped.toString();
  }

  /** A committed offset, -1 when the group committed none. */
  private static long offset(OffsetAndMetadata committed) {
    return committed == null ? -1 : committed.offset();
  }

  /** The event's common part: the user, this instance as its writer, now. */
  private DeliveryEvent.Builder event(String user) {
    return DeliveryEvent.newBuilder().setUserId(user).setNodeId(instanceId)
        .setAtMs(System.currentTimeMillis());
  }

  /** The user as the owner sees her, and whether the event had applied by then. */
  private record Applied(UserInfo user, boolean applied) {}

  /**
   * Writes the event to the user's {@code delivery-events} partition, then asks the owner until
   * it applied it, for at most {@link #APPLY_WAIT}.
   */
  private Applied writeAndAwait(String user, DeliveryEvent event) {
    long offset;
    try {
      offset = producer.send(topics.deliveryEvents(), user, event.toByteArray())
          .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).offset();
    } catch (ExecutionException | TimeoutException e) {
      throw unavailable("Kafka", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Status.CANCELLED.asRuntimeException();
    }
    long deadline = System.nanoTime() + APPLY_WAIT.toNanos();
    UserInfo info = null;
    while (true) {
      try {
        info = lookup.user(user).get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        if (info.getEventsAppliedThrough() >= offset) {
          return new Applied(info, true);
        }
      } catch (ExecutionException e) {
        StatusRuntimeException status = StatusLookup.asStatus(e);
        if (status.getStatus().getCode() != Status.Code.UNAVAILABLE) {
          throw status; // UNAVAILABLE: the partition moves; ask again
        }
      } catch (TimeoutException e) {
        // ask again while there is time
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw Status.CANCELLED.asRuntimeException();
      }
      if (System.nanoTime() > deadline) {
        return new Applied(info == null ? UserInfo.newBuilder().setUserId(user).build() : info,
            false);
      }
      try {
        Thread.sleep(POLL_MS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw Status.CANCELLED.asRuntimeException();
      }
    }
  }

  /** Where an erased user's data remains, with each topic's retention as Kafka says now. */
  private List<EraseUserResponse.Remains> remains() {
    Map<String, Config> configs = new HashMap<>();
    List<String> names = List.of(topics.outbound(), topics.deliveryEvents(), topics.inbound(),
        topics.deliveryReceipts(), topics.notifications(), topics.storeChangelog());
    try {
      kafka.describeConfigs(names.stream()
              .map(name -> new ConfigResource(ConfigResource.Type.TOPIC, name)).toList())
          .all().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
          .forEach((resource, config) -> configs.put(resource.name(), config));
    } catch (ExecutionException | TimeoutException e) {
      log.warn("cannot read the topics' retention for an erase answer: {}", e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    List<EraseUserResponse.Remains> remains = new ArrayList<>();
    remains.add(remains(topics.outbound(), "her messages as published, payloads included",
        retention(configs, topics.outbound(), "retention.ms")));
    remains.add(remains(topics.deliveryEvents(), "her devices' connects, acks and push targets "
        + "(device ids, push tokens), and this erase",
        retention(configs, topics.deliveryEvents(), "retention.ms")));
    OptionalLong lag = retention(configs, topics.storeChangelog(), "max.compaction.lag.ms");
    OptionalLong tombstones =
        retention(configs, topics.storeChangelog(), "delete.retention.ms");
    remains.add(remains(topics.storeChangelog(), "core's changes of her state (messages, "
        + "devices, push targets): the erase wrote tombstones over them; compaction drops the "
        + "older records within max.compaction.lag.ms, and the tombstones delete.retention.ms "
        + "later",
        lag.isPresent() && lag.getAsLong() < Long.MAX_VALUE && tombstones.isPresent()
            ? OptionalLong.of(lag.getAsLong() + tombstones.getAsLong()) : OptionalLong.empty()));
    remains.add(remains(topics.deliveryReceipts(), "receipts of her messages that asked for "
        + "them (message and device ids)",
        retention(configs, topics.deliveryReceipts(), "retention.ms")));
    remains.add(remains(topics.inbound(), "what her devices published",
        retention(configs, topics.inbound(), "retention.ms")));
    remains.add(remains(topics.notifications(), "notification requests for her devices (push "
        + "tokens, titles, bodies)", retention(configs, topics.notifications(), "retention.ms")));
    remains.add(remains("core state", "her last seq and stream epoch, kept so that seqs stay "
        + "dense; the ids of messages accepted within the dedup window",
        OptionalLong.of(dedupWindow.toMillis())));
    remains.add(remains("redis", "the presence of her devices while connected (device ids, "
        + "edges), and a full-queue mark for seconds", OptionalLong.of(0)));
    return remains;
  }

  private static EraseUserResponse.Remains remains(String where, String what,
      OptionalLong retentionMs) {
    return EraseUserResponse.Remains.newBuilder().setWhere(where).setWhat(what)
        .setRetentionMs(retentionMs.orElse(0)).setRetentionUnknown(retentionMs.isEmpty())
        .build();
  }

  /** The topic's setting in ms (-1: forever); empty when Kafka did not say. */
  private static OptionalLong retention(Map<String, Config> configs, String topic,
      String name) {
    Config config = configs.get(topic);
    ConfigEntry entry = config == null ? null : config.get(name);
    if (entry == null || entry.value() == null) {
      return OptionalLong.empty();
    }
    try {
      return OptionalLong.of(Long.parseLong(entry.value()));
    } catch (NumberFormatException e) {
      return OptionalLong.empty();
    }
  }

  /** Whether the owner knows nothing of the user: no seq, device, message or pause. */
  private static boolean isEmpty(UserInfo info) {
    return info.getLastSeq() == 0 && info.getDevicesCount() == 0 && info.getQueuedMessages() == 0
        && !info.getPaused();
  }

  /**
   * Refuses a call with an invalid user id, or about a user the operator's key may not act on;
   * returns whether it did.
   */
  private static boolean refused(String user, StreamObserver<?> response) {
    if (!Limits.isValidId(user)) {
      response.onError(Status.INVALID_ARGUMENT.withDescription("user_id must be "
          + Limits.ID_RULE).asRuntimeException());
      return true;
    }
    Sender operator = AdminAuthentication.operator();
    if (!operator.mayReach(user)) {
      response.onError(Status.PERMISSION_DENIED.withDescription("admin key '" + operator.name()
          + "' may not act on user '" + user + "' (its users: "
          + String.join(",", operator.recipients()) + ")").asRuntimeException());
      return true;
    }
    return false;
  }

  /**
   * Refuses a view of the whole deployment (its edges, cores and addresses) to a key limited to
   * some users; returns whether it did.
   */
  private static boolean refusedClusterView(StreamObserver<?> response) {
    Sender operator = AdminAuthentication.operator();
    if (!operator.recipients().contains("*")) {
      response.onError(Status.PERMISSION_DENIED.withDescription("admin key '" + operator.name()
          + "' may act on some users only; the deployment's edges and partitions need a key "
          + "for every user ('*')").asRuntimeException());
      return true;
    }
    return false;
  }

  private static <T> void reply(CompletableFuture<T> answer, StreamObserver<T> response) {
    answer.whenComplete((value, error) -> {
      if (error != null) {
        response.onError(StatusLookup.asStatus(error));
      } else {
        response.onNext(value);
        response.onCompleted();
      }
    });
  }

  private static StatusRuntimeException unavailable(String what, Throwable error) {
    Throwable cause = error instanceof ExecutionException && error.getCause() != null
        ? error.getCause() : error;
    if (cause instanceof StatusRuntimeException status) {
      return status;
    }
    return Status.UNAVAILABLE.withDescription(what + " did not answer: " + cause)
        .withCause(cause).asRuntimeException();
  }

  @Override
  public void close() {
    kafka.close(Duration.ofSeconds(2));
    redis.close();
  }
}
