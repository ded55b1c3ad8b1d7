package io.homing.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.homing.api.v1.DeliveryReceipt;
import io.homing.api.v1.Notification;
import io.homing.api.v1.PushTarget;
import io.homing.api.v1.PushTargetError;
import io.homing.api.v1.SendRequest;
import io.homing.client.HomingConnection;
import io.homing.client.PushTargetRefusedException;
import io.homing.core.NotifyPolicy;
import io.homing.notifier.Notifier;
import io.homing.notifier.NotifierPolicy;
import io.homing.notifier.push.ApnsProvider;
import io.homing.notifier.push.FcmProvider;
import io.homing.notifier.push.PushProvider;
import io.homing.notifier.push.WebhookProvider;
import io.homing.testing.push.FakeApns;
import io.homing.testing.push.FakeFcm;
import io.homing.testing.push.WebhookReceiver;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Push notifications end to end (docs/push.md): real Kafka, Redis and RocksDB, a core and an edge,
 * the notifier in this JVM, and local servers that speak APNs (Pushy's mock, over HTTP/2 with
 * TLS), FCM's HTTP v1 API (with its OAuth2 token exchange) and a webhook receiver checking
 * signatures.
 */
class PushNotificationsIT {
  private static final String SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

  @RegisterExtension
  static final TestCluster cluster = TestCluster.perClass(1, TestCluster.Options.defaults()
      .with(new NotifyPolicy(Duration.ofMillis(500), Duration.ofSeconds(1))));

  private static FakeApns apns;
  private static FakeFcm fcm;
  private static WebhookReceiver webhooks;
  private static Notifier notifier;

  @BeforeAll
  static void startProviders() {
    apns = FakeApns.start();
    fcm = FakeFcm.start();
    webhooks = WebhookReceiver.start(SECRET);
    List<PushProvider> providers = List.of(
        new ApnsProvider(new ApnsProvider.Settings(
            new ApnsProvider.TokenAuth(apns.signingKey().p8(), apns.signingKey().teamId(),
                apns.signingKey().keyId()),
            "io.homing.test",
            new ApnsProvider.Endpoint(apns.host(), apns.port()),
            new ApnsProvider.Endpoint(apns.host(), apns.port()),
            Optional.of(apns.caCertificate()), 1, Duration.ofSeconds(5))),
        new FcmProvider(new FcmProvider.Settings(fcm.serviceAccountFile(), fcm.baseUrl(),
            Optional.empty(), Duration.ofSeconds(5))),
        new WebhookProvider(new WebhookProvider.Settings(List.of(SECRET),
            List.of(webhooks.baseUrl() + "/"), Duration.ofSeconds(5))));
    NotifierPolicy defaults = NotifierPolicy.defaults();
    notifier = new Notifier(cluster.kafkaConnection(), cluster.topics, cluster.name + "-notifier",
        "notifier-it", providers,
        new NotifierPolicy(defaults.defaultMode(), defaults.defaultTitle(),
            defaults.defaultBody(), defaults.collapseId(), Duration.ofMinutes(1),
            Duration.ofMillis(200), Duration.ofSeconds(1), 1000),
        new SimpleMeterRegistry()).start();
  }

  @AfterAll
  static void stopProviders() {
    if (notifier != null) {
      notifier.close();
    }
    for (AutoCloseable server : new AutoCloseable[] {webhooks, fcm, apns}) {
      try {
        if (server != null) {
          server.close();
        }
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    }
  }

  @Test
  void anOfflineUserGetsOneCollapsedNotificationPerDeviceFromEachProvider() throws Exception {
    String user = "alice-" + UUID.randomUUID();
    String apnsToken = token();
    String fcmToken = "fcm-" + UUID.randomUUID();
    String hook = webhooks.url("/hooks/" + user);
    register(user, "iphone", apns(apnsToken));
    register(user, "android", PushTarget.newBuilder()
        .setFcm(PushTarget.Fcm.newBuilder().setRegistrationToken(fcmToken)).build());
    register(user, "laptop", webhook(hook));

    List<String> ids = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      ids.add(cluster.sendText("message " + i, user).getMessageId());
    }

    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      assertThat(apns.accepted()).filteredOn(n -> n.token().equals(apnsToken)).hasSize(1);
      assertThat(fcmMessages(fcmToken)).hasSize(1);
      assertThat(webhooks.deliveries()).filteredOn(d -> d.path().endsWith(user)).hasSize(1);
    });
    Thread.sleep(1_500); // past the delay and the interval: nothing more may come
    FakeApns.Notification toIphone = apns.accepted().stream()
        .filter(n -> n.token().equals(apnsToken)).toList().get(0);
    assertThat(apns.received()).filteredOn(n -> n.token().equals(apnsToken)).hasSize(1);
    assertThat(toIphone.topic()).isEqualTo("io.homing.test");
    assertThat(toIphone.collapseId()).isEqualTo("homing");
    assertThat(toIphone.payload()).contains("3 new message(s)");
    var android = fcmMessages(fcmToken);
    assertThat(android).hasSize(1);
    assertThat(android.get(0).path("data").path("homing_waiting").asText())
        .isEqualTo("3");
    var laptop = webhooks.deliveries().stream().filter(d -> d.path().endsWith(user)).toList();
    assertThat(laptop).hasSize(1);
    assertThat(laptop.get(0).json().path("user_id").asText()).isEqualTo(user);
    assertThat(laptop.get(0).json().path("device_id").asText()).isEqualTo("laptop");
    assertThat(laptop.get(0).json().path("waiting").asLong()).isEqualTo(3);
    assertThat(laptop.get(0).json().path("message_id").asText()).isEqualTo(ids.get(2));

    Inbox inbox = new Inbox();
    cluster.connected(0, user, "iphone", inbox);
    assertThat(inbox.take(3)).extracting(Inbox.Received::text)
        .containsExactly("message 1", "message 2", "message 3");
  }

  @Test
  void whatANotificationShowsComesFromTheMessage() throws Exception {
    String user = "carol-" + UUID.randomUUID();
    String hook = webhooks.url("/hooks/" + user);
    register(user, "laptop", webhook(hook));

    cluster.send().send(SendRequest.newBuilder().addUserIds(user)
        .setPayload(ByteString.copyFromUtf8("shipped"))
        .setNotification(Notification.newBuilder().setMode(Notification.Mode.SILENT)
            .putData("order", "42"))
        .build());

    await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
        assertThat(webhooks.deliveries()).filteredOn(d -> d.path().endsWith(user)).hasSize(1));
    var body = webhooks.deliveries().stream().filter(d -> d.path().endsWith(user)).findFirst()
        .orElseThrow().json();
    assertThat(body.path("mode").asText()).isEqualTo("SILENT");
    assertThat(body.path("data").path("order").asText()).isEqualTo("42");

    cluster.send().send(SendRequest.newBuilder().addUserIds(user)
        .setPayload(ByteString.copyFromUtf8("quiet"))
        .setNotification(Notification.newBuilder().setMode(Notification.Mode.NONE))
        .build());
    Thread.sleep(2_000);
    assertThat(webhooks.deliveries()).as("a message asking for none notifies nobody")
        .filteredOn(d -> d.path().endsWith(user)).hasSize(1);
  }

  @Test
  void anInvalidTokenIsRemovedAndTheSenderLearnsWhy() throws Exception {
    String user = "bob-" + UUID.randomUUID();
    String fcmToken = "fcm-gone-" + UUID.randomUUID();
    fcm.reply(fcmToken, FakeFcm.Reply.unregistered());
    register(user, "android", PushTarget.newBuilder()
        .setFcm(PushTarget.Fcm.newBuilder().setRegistrationToken(fcmToken)).build());

    String first = cluster.send().send(SendRequest.newBuilder().addUserIds(user)
        .setPayload(ByteString.copyFromUtf8("one")).setReceipts(true).build()).getMessageId();

    DeliveryReceipt failed = awaitReceipt(first, DeliveryReceipt.State.NOTIFICATION_FAILED);
    assertThat(failed.getDeviceId()).isEqualTo("android");
    assertThat(failed.getDetail()).contains("UNREGISTERED");
    assertThat(fcmMessages(fcmToken)).hasSize(1);

    Thread.sleep(1_200); // past the user's interval
    cluster.sendText("two", user);
    Thread.sleep(2_000);
    assertThat(fcmMessages(fcmToken)).as("the token is gone: no second try").hasSize(1);
  }

  @Test
  void aProviderThatIsDownIsRetriedAndNeverHoldsUpDelivery() throws Exception {
    String user = "dave-" + UUID.randomUUID();
    String hook = webhooks.url("/hooks/" + user);
    webhooks.reply("/hooks/" + user, WebhookReceiver.Reply.status(503), 2);
    register(user, "laptop", webhook(hook));

    String id = cluster.send().send(SendRequest.newBuilder().addUserIds(user)
        .setPayload(ByteString.copyFromUtf8("while down")).setReceipts(true).build())
        .getMessageId();
    await().atMost(Duration.ofSeconds(20)).until(() -> !webhooks.deliveries().stream()
        .filter(d -> d.path().endsWith(user)).toList().isEmpty());
    // The notifier is retrying; a device that connects gets the message at once.
    Inbox inbox = new Inbox();
    HomingConnection phone = cluster.connected(0, user, "phone", inbox);
    assertThat(inbox.take(1)).extracting(Inbox.Received::text).containsExactly("while down");
    phone.close();

    DeliveryReceipt sent = awaitReceipt(id, DeliveryReceipt.State.NOTIFICATION_SENT);
    assertThat(sent.getDeviceId()).isEqualTo("laptop");
    var attempts = webhooks.deliveries().stream().filter(d -> d.path().endsWith(user)).toList();
    assertThat(attempts).extracting(WebhookReceiver.Delivery::status)
        .containsExactly(503, 503, 200);
    assertThat(attempts).extracting(d -> d.headers().get("webhook-id")).as("one notification")
        .containsOnly(attempts.get(0).headers().get("webhook-id"));
  }

  @Test
  void anEdgeRefusesAMalformedTargetAndAWebhookItDoesNotAllow() throws Exception {
    String user = "erin-" + UUID.randomUUID();
    HomingConnection c = cluster.connected(0, user, "phone", new Inbox());
    assertThat(refusal(c, PushTarget.newBuilder().setApns(
        PushTarget.Apns.newBuilder().setDeviceToken("not hex")).build()).getCode())
        .isEqualTo(PushTargetError.Code.INVALID);
    assertThat(refusal(c, webhook("http://169.254.169.254/latest/meta-data")).getCode())
        .isEqualTo(PushTargetError.Code.NOT_ALLOWED);
    c.close();
  }

  private static PushTargetError refusal(HomingConnection c, PushTarget target) {
    try {
      c.setPushTarget(target).get(10, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof PushTargetRefusedException refused) {
        return refused.error();
      }
      throw new AssertionError(e);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    throw new AssertionError("the edge took " + target);
  }

  /**
   * Connects the device, registers its target, and goes away. (Should core apply the disconnect
   * after the messages that follow, it notifies when the stream closes with them unacked.)
   */
  private static void register(String user, String device, PushTarget target) throws Exception {
    HomingConnection c = cluster.connected(0, user, device, new Inbox());
    c.setPushTarget(target).get(10, TimeUnit.SECONDS);
    c.close();
    await().atMost(Duration.ofSeconds(10))
        .until(() -> cluster.presenceRoute(user, device) == null);
  }

  private static PushTarget apns(String token) {
    return PushTarget.newBuilder().setApns(PushTarget.Apns.newBuilder().setDeviceToken(token))
        .build();
  }

  private static PushTarget webhook(String url) {
    return PushTarget.newBuilder().setWebhook(PushTarget.Webhook.newBuilder().setUrl(url))
        .build();
  }

  private static String token() {
    byte[] bytes = new byte[32];
    new java.security.SecureRandom().nextBytes(bytes);
    return HexFormat.of().formatHex(bytes);
  }

  private static List<com.fasterxml.jackson.databind.JsonNode> fcmMessages(String token) {
    return fcm.messages().stream()
        .filter(m -> m.path("token").asText().equals(token)).toList();
  }

  /** Reads delivery-receipts until the message's receipt of this state; fails after 30 s. */
  private static DeliveryReceipt awaitReceipt(String messageId, DeliveryReceipt.State state) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    try (KafkaConsumer<String, byte[]> consumer = ReceiptsIT.fromTheStart(
        cluster.kafkaConnection(), cluster.topics.deliveryReceipts())) {
      while (System.nanoTime() < deadline) {
        for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
          DeliveryReceipt receipt;
          try {
            receipt = DeliveryReceipt.parseFrom(record.value());
          } catch (InvalidProtocolBufferException e) {
            throw new AssertionError(e);
          }
          if (receipt.getMessageId().equals(messageId) && receipt.getState() == state) {
            return receipt;
          }
        }
      }
    }
    throw new AssertionError("no " + state + " receipt of " + messageId + " within 30 s");
  }
}
