package io.homing.core.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import com.google.protobuf.ByteString;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.homing.api.PresenceKeys;
import io.homing.api.v1.Delivery;
import io.homing.api.v1.DeliveryBatch;
import io.homing.api.v1.DeliveryEvent;
import io.homing.api.v1.DeliveryReceipt;
import io.homing.api.v1.DeliveryResult;
import io.homing.api.v1.DeliveryResults;
import io.homing.api.v1.EdgeServiceGrpc;
import io.homing.api.v1.Message;
import io.homing.api.v1.StreamOpened;
import io.homing.core.DeliveryPolicy;
import io.homing.core.DeviceLimits;
import io.homing.core.NotifyPolicy;
import io.homing.core.QueueLimits;
import io.homing.core.ReceiptPolicy;
import io.homing.core.routing.EdgeClients;
import io.homing.core.routing.PresenceResolver;
import io.homing.runtime.redis.RedisConnection;
import io.homing.store.OfflineStore;
import io.homing.store.PartitionState;
import io.homing.testing.RedisServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dispatcher against a real edge gRPC server on a loopback port, real Redis for presence and
 * a real RocksDB state: what every opened stream tells its edge, and in which batch.
 */
class DispatcherIT {
  private static final String NODE = "edge-1";
  private static final long CLOCK_MS = 1_000;

  @TempDir Path dir;
  private final String prefix = "dispatcher-it-" + UUID.randomUUID() + ":";
  private final PresenceKeys keys = new PresenceKeys(prefix);
  private final BlockingQueue<DeliveryBatch> received = new LinkedBlockingQueue<>();
  private final PartitionMachine machine =
      new PartitionMachine(0, QueueLimits.defaults(), DeviceLimits.defaults());
  private Server edge;
  private RedisClient redisClient;
  private StatefulRedisConnection<String, String> redis;
  private PartitionState state;
  private PresenceResolver presence;
  private EdgeClients edges;
  private Dispatcher dispatcher;

  @BeforeEach
  void start() throws IOException {
    edge = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(new RecordingEdge())
        .build()
        .start();
    redisClient = RedisClient.create(RedisServer.shared().uri());
    redis = redisClient.connect();
    redis.sync().set(keys.edge(NODE), "127.0.0.1:" + edge.getPort());
    state = new PartitionState(OfflineStore.open(dir));
    presence = new PresenceResolver(RedisConnection.of(RedisServer.shared().uri()), prefix);
    edges = new EdgeClients(null, Optional.empty(), new SimpleMeterRegistry());
    dispatcher = new Dispatcher(user -> state, presence, edges,
        new DeliveryPolicy(Duration.ofSeconds(10), 5, 1_000, Duration.ZERO),
        NotifyPolicy.defaults(), ReceiptPolicy.defaults(), System::nanoTime,
        new SimpleMeterRegistry());
  }

  @AfterEach
  void stop() throws InterruptedException {
    edges.close();
    presence.close();
    state.close();
    redis.close();
    redisClient.shutdown();
    edge.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  @Test
  void aConnectedDeviceIsToldWhereTheStreamStandsBeforeItsBacklog() throws InterruptedException {
    Outcome applied = new Outcome();
    for (int i = 1; i <= 3; i++) {
      machine.message(state, "alice", message("m" + i), CLOCK_MS + i, applied);
    }
    machine.event(state, connected("alice", "phone", "c1", 1), CLOCK_MS + 10, applied);
    dispatcher.dispatch(applied);

    DeliveryBatch batch = take();
    assertThat(batch.getOpenedList()).containsExactly(StreamOpened.newBuilder()
        .setUserId("alice").setDeviceId("phone").setConnectionId("c1")
        .setLastSeq(3).setStreamEpoch(CLOCK_MS + 1).setCursor(1).build());
    assertThat(batch.getDeliveriesList()).extracting(Delivery::getSeq, Delivery::getPrevSeq)
        .containsExactly(tuple(2L, 1L), tuple(3L, 2L));
  }

  @Test
  void aStreamWithNothingToDeliverIsStillAnnounced() throws InterruptedException {
    Outcome applied = new Outcome();
    machine.event(state, connected("bob", "phone", "c1", 0), CLOCK_MS, applied);
    dispatcher.dispatch(applied);

    DeliveryBatch batch = take();
    assertThat(batch.getOpenedList()).containsExactly(StreamOpened.newBuilder()
        .setUserId("bob").setDeviceId("phone").setConnectionId("c1").build());
    assertThat(batch.getDeliveriesList()).isEmpty();
  }

  @Test
  void aDeviceFoundInRedisIsAnnouncedAgainAfterARebalance() throws InterruptedException {
    redis.sync().hset(keys.presence("carol"), "laptop", PresenceKeys.route(NODE, "c7"));
    Outcome first = new Outcome();
    machine.message(state, "carol", message("m1"), CLOCK_MS, first);
    dispatcher.dispatch(first);
    DeliveryBatch discovered = take();
    assertThat(discovered.getOpenedList()).extracting(StreamOpened::getConnectionId,
        StreamOpened::getLastSeq, StreamOpened::getCursor).containsExactly(tuple("c7", 1L, 0L));
    assertThat(discovered.getDeliveriesList()).extracting(Delivery::getSeq).containsExactly(1L);

    Outcome acked = new Outcome();
    machine.event(state, acked("carol", "laptop", "c7", 1), CLOCK_MS + 1, acked);
    dispatcher.dispatch(acked);
    dispatcher.reset(); // the partition moved away and back
    Outcome second = new Outcome();
    machine.message(state, "carol", message("m2"), CLOCK_MS + 2, second);
    dispatcher.dispatch(second);

    DeliveryBatch rediscovered = take();
    assertThat(rediscovered.getOpenedList()).containsExactly(StreamOpened.newBuilder()
        .setUserId("carol").setDeviceId("laptop").setConnectionId("c7")
        .setLastSeq(2).setStreamEpoch(CLOCK_MS).setCursor(1).build());
    assertThat(rediscovered.getDeliveriesList()).extracting(Delivery::getSeq, Delivery::getPrevSeq)
        .containsExactly(tuple(2L, 1L));
  }

  /**
   * Backlogs larger than one gRPC message: each connection's StreamOpened arrives in the batch of
   * its first delivery or before it, never after.
   */
  @Test
  void aStreamOpenedNeverTrailsTheFirstDeliveryToItsConnection() throws InterruptedException {
    Outcome applied = new Outcome();
    for (int i = 1; i <= 1_200; i++) {
      machine.message(state, "dave", message("m" + i), CLOCK_MS, applied);
    }
    dispatcher.dispatch(applied); // nobody connected: only stored
    Outcome connects = new Outcome();
    machine.event(state, connected("dave", "phone", "c1", 0), CLOCK_MS, connects);
    machine.event(state, connected("dave", "laptop", "c2", 300), CLOCK_MS, connects);
    dispatcher.dispatch(connects);

    List<DeliveryBatch> batches = new ArrayList<>();
    int deliveries = 0;
    while (deliveries < 1_000 + 900) { // each window full
      DeliveryBatch batch = take();
      batches.add(batch);
      deliveries += batch.getDeliveriesCount();
    }
    assertThat(batches).hasSizeGreaterThan(2);
    for (String connection : List.of("c1", "c2")) {
      int opened = firstBatch(batches, connection, true);
      int delivered = firstBatch(batches, connection, false);
      assertThat(opened).as("batch announcing %s", connection).isGreaterThanOrEqualTo(0)
          .isLessThanOrEqualTo(delivered);
    }
  }

  @Test
  void writtenAnswersToMessagesThatAskedBecomeDeliveredReceipts() throws InterruptedException {
    Outcome first = new Outcome();
    machine.event(state, connected("erin", "phone", "c1", 0), CLOCK_MS, first);
    machine.event(state, connected("erin", "watch", "gone-1", 0), CLOCK_MS, first);
    machine.message(state, "erin", message("m1"), CLOCK_MS, first); // asks for nothing
    dispatcher.dispatch(first);
    Outcome second = new Outcome();
    machine.message(state, "erin", asking("m2"), CLOCK_MS + 1, second);
    machine.message(state, "erin", message("m3"), CLOCK_MS + 2, second);
    machine.message(state, "erin", asking("m4"), CLOCK_MS + 3, second);
    dispatcher.dispatch(second);

    List<Delivery> deliveries = new ArrayList<>();
    while (deliveries.size() < 8) { // 4 messages to each of 2 devices
      deliveries.addAll(take().getDeliveriesList());
    }
    List<DeliveryReceipt> delivered = new ArrayList<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (delivered.size() < 2 && System.nanoTime() < deadline) {
      Thread.sleep(10);
      dispatcher.publishWritten(); // the edge's answers arrive on gRPC's threads
      state.cut().receipts().stream()
          .filter(r -> r.getState() == DeliveryReceipt.State.DELIVERED).forEach(delivered::add);
    }

    assertThat(delivered).extracting(DeliveryReceipt::getMessageId, DeliveryReceipt::getDeviceId,
        DeliveryReceipt::getSeq, DeliveryReceipt::getNodeId, DeliveryReceipt::getSender)
        .containsExactly(tuple("m2", "phone", 2L, NODE, "billing"),
            tuple("m4", "phone", 4L, NODE, "billing"));
    assertThat(delivered).allSatisfy(r -> assertThat(r.getAtMs()).isPositive());
    assertThat(deliveries).extracting(Delivery::getMessage).allSatisfy(m -> {
      assertThat(m.getReceipts()).as("receipts are the producer's").isFalse();
      assertThat(m.getSender()).isEmpty();
    });
  }

  private static int firstBatch(List<DeliveryBatch> batches, String connection, boolean opened) {
    for (int i = 0; i < batches.size(); i++) {
      DeliveryBatch b = batches.get(i);
      boolean found = opened
          ? b.getOpenedList().stream().anyMatch(o -> o.getConnectionId().equals(connection))
          : b.getDeliveriesList().stream().anyMatch(d -> d.getConnectionId().equals(connection));
      if (found) {
        return i;
      }
    }
    return -1;
  }

  private DeliveryBatch take() throws InterruptedException {
    DeliveryBatch batch = received.poll(10, TimeUnit.SECONDS);
    assertThat(batch).as("a batch at the edge").isNotNull();
    return batch;
  }

  private static DeliveryEvent connected(String user, String device, String connection,
      long lastSeq) {
    return event(user, device, connection).setConnected(
        DeliveryEvent.Connected.newBuilder().setLastSeq(lastSeq)).build();
  }

  private static DeliveryEvent acked(String user, String device, String connection, long seq) {
    return event(user, device, connection).setAcked(
        DeliveryEvent.Acked.newBuilder().setSeq(seq)).build();
  }

  private static DeliveryEvent.Builder event(String user, String device, String connection) {
    return DeliveryEvent.newBuilder().setUserId(user).setDeviceId(device).setNodeId(NODE)
        .setConnectionId(connection);
  }

  private static Message asking(String id) {
    return message(id).toBuilder().setReceipts(true).setSender("billing").build();
  }

  private static Message message(String id) {
    return Message.newBuilder().setMessageId(id).setPayload(ByteString.copyFromUtf8(id))
        .setCreatedAtMs(CLOCK_MS).setTtlMs(60_000).build();
  }

  /**
   * An edge that records every batch and answers each delivery: WRITTEN, but NOT_CONNECTED for a
   * connection whose id starts with "gone".
   */
  private final class RecordingEdge extends EdgeServiceGrpc.EdgeServiceImplBase {
    @Override
    public StreamObserver<DeliveryBatch> deliver(StreamObserver<DeliveryResults> results) {
      return new StreamObserver<>() {
        @Override
        public void onNext(DeliveryBatch batch) {
          received.add(batch);
          DeliveryResults.Builder answer = DeliveryResults.newBuilder();
          for (Delivery d : batch.getDeliveriesList()) {
            answer.addResults(DeliveryResult.newBuilder().setUserId(d.getUserId())
                .setDeviceId(d.getDeviceId()).setSeq(d.getSeq())
                .setOutcome(d.getConnectionId().startsWith("gone")
                    ? DeliveryResult.Outcome.NOT_CONNECTED : DeliveryResult.Outcome.WRITTEN));
          }
          results.onNext(answer.build());
        }

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {
          results.onCompleted();
        }
      };
    }
  }
}
