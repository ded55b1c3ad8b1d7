package io.homing.notifier;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.InvalidProtocolBufferException;
import io.homing.api.Topics;
import io.homing.api.v1.DeliveryEvent;
import io.homing.api.v1.DeliveryReceipt;
import io.homing.api.v1.Notification;
import io.homing.api.v1.NotificationRequest;
import io.homing.api.v1.PushTarget;
import io.homing.notifier.push.PushContent;
import io.homing.notifier.push.PushProvider;
import io.homing.notifier.push.PushResult;
import io.homing.runtime.kafka.KafkaConnection;
import io.homing.testing.KafkaBroker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The notifier's loop against a real Kafka broker, with a scripted provider in place of APNs,
 * FCM and webhooks (those are tested against their local servers in the push package, and all
 * together in PushNotificationsIT): what it publishes for each answer, retries, requests too old
 * to send, and that it commits what it finished so that a restart sends nothing twice.
 */
class NotifierIT {
  private final KafkaBroker kafka = KafkaBroker.shared();
  private final Topics topics = new Topics("notifier-it-" + UUID.randomUUID() + ".");
  private final String group = "notifier-it-" + UUID.randomUUID();
  private final Scripted provider = new Scripted();
  private Notifier notifier;

  /** Answers each send with the next scripted result (SENT once the script is empty). */
  private static final class Scripted implements PushProvider {
    final Queue<PushResult> script = new ConcurrentLinkedQueue<>();
    final List<PushContent> sent = Collections.synchronizedList(new ArrayList<>());

    @Override
    public PushTarget.KindCase kind() {
      return PushTarget.KindCase.WEBHOOK;
    }

    @Override
    public CompletableFuture<PushResult> send(PushTarget target, PushContent content) {
      sent.add(content);
      PushResult next = script.poll();
      return CompletableFuture.completedFuture(next != null ? next : PushResult.sent("ok"));
    }

    @Override
    public void close() {}
  }

  @BeforeEach
  void topics() throws Exception {
    try (Admin admin = Admin.create(connection().clientConfig())) {
      admin.createTopics(List.of(new NewTopic(topics.notifications(), 1, (short) 1),
          new NewTopic(topics.deliveryReceipts(), 1, (short) 1),
          new NewTopic(topics.deliveryEvents(), 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
    }
  }

  @AfterEach
  void stop() {
    if (notifier != null) {
      notifier.close();
    }
  }

  @Test
  void sendsEachRequestOnceAndSaysSoForTheMessagesThatAskedEvenAcrossARestart()
      throws Exception {
    start();
    request("alice", "phone", webhook(), System.currentTimeMillis(), "m1");
    request("bob", "laptop", webhook(), System.currentTimeMillis());

    List<DeliveryReceipt> receipts = awaitRecords(topics.deliveryReceipts(), 1,
        NotifierIT::receipt);
    assertThat(receipts).extracting(DeliveryReceipt::getMessageId, DeliveryReceipt::getState,
            DeliveryReceipt::getDeviceId, DeliveryReceipt::getDetail)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("m1",
            DeliveryReceipt.State.NOTIFICATION_SENT, "phone", "ok"));
    await().atMost(Duration.ofSeconds(10)).until(() -> provider.sent.size() == 2);
    assertThat(provider.sent.get(0).body()).isEqualTo("2 new message(s)");
    assertThat(provider.sent.get(0).mode()).isEqualTo(Notification.Mode.ALERT);

    notifier.close();
    start();
    request("carol", "phone", webhook(), System.currentTimeMillis());
    await().atMost(Duration.ofSeconds(20)).until(() -> provider.sent.size() == 3);
    assertThat(provider.sent).extracting(PushContent::userId)
        .as("the first two were committed: the restart sends only the new one")
        .containsExactly("alice", "bob", "carol");
  }

  @Test
  void retriesWhatTheProviderCallsNotNowWithTheSameId() throws Exception {
    provider.script.add(PushResult.retry("webhook: 503", null));
    provider.script.add(PushResult.retry("webhook: 429", Duration.ZERO));
    start();
    request("alice", "phone", webhook(), System.currentTimeMillis(), "m1");

    DeliveryReceipt sent = awaitRecords(topics.deliveryReceipts(), 1, NotifierIT::receipt).get(0);
    assertThat(sent.getState()).isEqualTo(DeliveryReceipt.State.NOTIFICATION_SENT);
    assertThat(provider.sent).hasSize(3);
    assertThat(provider.sent).extracting(PushContent::id).containsOnly(provider.sent.get(0).id());
  }

  @Test
  void reportsAnInvalidTargetForCoreToRemoveNamingTheRegistration() throws Exception {
    provider.script.add(PushResult.invalidTarget("webhook: 410", 1_000));
    start();
    request("alice", "phone", webhook(), System.currentTimeMillis(), "m1");

    DeliveryEvent event = awaitRecords(topics.deliveryEvents(), 1, NotifierIT::event).get(0);
    assertThat(event.getUserId()).isEqualTo("alice");
    assertThat(event.getDeviceId()).isEqualTo("phone");
    assertThat(event.getPushTargetInvalid().getTarget()).isEqualTo(webhook());
    assertThat(event.getPushTargetInvalid().getInvalidSinceMs()).isEqualTo(1_000);
    assertThat(event.getPushTargetInvalid().getTargetSetAtMs()).isEqualTo(777);
    DeliveryReceipt failed = awaitRecords(topics.deliveryReceipts(), 1, NotifierIT::receipt)
        .get(0);
    assertThat(failed.getState()).isEqualTo(DeliveryReceipt.State.NOTIFICATION_FAILED);
    assertThat(failed.getDetail()).isEqualTo("webhook: 410");
  }

  @Test
  void dropsARequestTooOldToSendAndOneNoProviderTakes() throws Exception {
    start();
    request("alice", "phone", webhook(), System.currentTimeMillis() - 600_000, "old");
    request("alice", "tablet", PushTarget.newBuilder().setFcm(
        PushTarget.Fcm.newBuilder().setRegistrationToken("t")).build(),
        System.currentTimeMillis(), "fcm");

    List<DeliveryReceipt> failed = awaitRecords(topics.deliveryReceipts(), 2,
        NotifierIT::receipt);
    assertThat(failed).extracting(DeliveryReceipt::getState)
        .containsOnly(DeliveryReceipt.State.NOTIFICATION_FAILED);
    assertThat(failed.get(0).getDetail()).startsWith("expired");
    assertThat(failed.get(1).getDetail()).isEqualTo("fcm: no provider configured on this notifier");
    assertThat(provider.sent).isEmpty();
  }

  private void start() {
    NotifierPolicy defaults = NotifierPolicy.defaults();
    notifier = new Notifier(connection(), topics, group, "notifier-it", List.of(provider),
        new NotifierPolicy(defaults.defaultMode(), defaults.defaultTitle(),
            defaults.defaultBody(), defaults.collapseId(), Duration.ofMinutes(5),
            Duration.ofMillis(100), Duration.ofMillis(400), 100),
        new SimpleMeterRegistry()).start();
  }

  private KafkaConnection connection() {
    return new KafkaConnection(kafka.bootstrapServers(), kafka.clientSecurity());
  }

  private void request(String user, String device, PushTarget target, long createdAtMs,
      String... receiptIds) throws Exception {
    NotificationRequest.Builder request = NotificationRequest.newBuilder()
        .setUserId(user).setDeviceId(device).setTarget(target).setWaiting(2)
        .setMessageId("newest").setSeq(2).setCreatedAtMs(createdAtMs).setTargetSetAtMs(777);
    for (String id : receiptIds) {
      request.addReceipts(NotificationRequest.Receipted.newBuilder().setMessageId(id).setSeq(1)
          .setKey(id));
    }
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(
        connection().clientConfig(), new ByteArraySerializer(), new ByteArraySerializer())) {
      producer.send(new ProducerRecord<>(topics.notifications(), user.getBytes(UTF_8),
          request.build().toByteArray())).get(10, TimeUnit.SECONDS);
    }
  }

  private static PushTarget webhook() {
    return PushTarget.newBuilder()
        .setWebhook(PushTarget.Webhook.newBuilder().setUrl("http://127.0.0.1:1/hook")).build();
  }

  /** Reads the topic from its start until {@code count} records came; fails after 20 s. */
  private <T> List<T> awaitRecords(String topic, int count, Parser<T> parser) throws Exception {
    Map<String, Object> config = connection().clientConfig();
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<T> records = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config,
        new StringDeserializer(), new ByteArrayDeserializer())) {
      TopicPartition tp = new TopicPartition(topic, 0);
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (records.size() < count && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          records.add(parser.parse(r.value()));
        }
      }
    }
    assertThat(records).as("records of %s", topic).hasSize(count);
    return records;
  }

  @FunctionalInterface
  private interface Parser<T> {
    T parse(byte[] value) throws InvalidProtocolBufferException;
  }

  private static DeliveryReceipt receipt(byte[] value) throws InvalidProtocolBufferException {
    return DeliveryReceipt.parseFrom(value);
  }

  private static DeliveryEvent event(byte[] value) throws InvalidProtocolBufferException {
    return DeliveryEvent.parseFrom(value);
  }
}
