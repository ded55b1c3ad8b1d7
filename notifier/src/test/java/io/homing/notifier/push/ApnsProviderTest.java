package io.homing.notifier.push;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.eatthepath.pushy.apns.server.RejectionReason;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.homing.api.v1.PushTarget;
import io.homing.notifier.push.ApnsProvider.Endpoint;
import io.homing.notifier.push.PushResult.Status;
import io.homing.testing.Ports;
import io.homing.testing.push.FakeApns;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ApnsProviderTest {
  private static final String TOKEN = "a".repeat(64);
  private static final String TOPIC = "io.homing.app";

  private final FakeApns apns = FakeApns.start();
  private ApnsProvider provider = provider(tokenAuth(apns), endpoint(), endpoint());

  @AfterEach
  void close() {
    provider.close();
    apns.close();
  }

  @Test
  void sendsAnAlertWithTokenAuthentication() throws Exception {
    PushContent content = PushContents.alert(System.currentTimeMillis() + 3_600_000);

    PushResult result = send(target(TOKEN, ""), content);

    assertThat(result.status()).isEqualTo(Status.SENT);
    assertThat(result.detail()).isEqualTo("apns: accepted");
    FakeApns.Notification notification = apns.accepted().get(0);
    assertThat(notification.token()).isEqualTo(TOKEN);
    assertThat(notification.topic()).isEqualTo(TOPIC);
    assertThat(notification.pushType()).isEqualTo("alert");
    assertThat(notification.priority()).isEqualTo("10");
    assertThat(notification.collapseId()).isEqualTo("u1");
    assertThat(notification.apnsId()).isEqualToIgnoringCase(content.id());
    assertThat(notification.expiration()).isEqualTo(Long.toString(content.expiresAtMs() / 1000));
    assertThat(notification.clientCertificate()).isNull();
    JsonNode payload = new ObjectMapper().readTree(notification.payload());
    assertThat(payload.path("aps").path("alert").path("title").asText()).isEqualTo("New message");
    assertThat(payload.path("aps").path("alert").path("body").asText())
        .isEqualTo("3 messages are waiting");
    assertThat(payload.path("aps").has("badge")).isFalse();
    assertThat(payload.path("homing_waiting").asLong()).isEqualTo(3);
    assertThat(payload.path("homing_message_id").asText()).isEqualTo("m-7");
    assertThat(payload.path("homing_seq").asLong()).isEqualTo(7);
    assertThat(payload.path("room").asText()).isEqualTo("blue");
  }

  @Test
  void sendsSilentAsABackgroundPushToTheTargetsTopic() throws Exception {
    PushResult result = send(target(TOKEN, "com.example.other"), PushContents.silent());

    assertThat(result.status()).isEqualTo(Status.SENT);
    FakeApns.Notification notification = apns.accepted().get(0);
    assertThat(notification.topic()).isEqualTo("com.example.other");
    assertThat(notification.pushType()).isEqualTo("background");
    assertThat(notification.priority()).isEqualTo("5");
    JsonNode payload = new ObjectMapper().readTree(notification.payload());
    assertThat(payload.path("aps").path("content-available").asInt()).isEqualTo(1);
    assertThat(payload.path("aps").has("alert")).isFalse();
    // No expiry: stored by APNs for a day, rather than Pushy's 0 ("now or never").
    assertThat(Long.parseLong(notification.expiration()))
        .isCloseTo(Instant.now().plus(1, ChronoUnit.DAYS).getEpochSecond(), within(60L));
  }

  @Test
  void unregisteredIsAnInvalidTargetSinceApplesTimestamp() throws Exception {
    Instant since = Instant.parse("2026-01-02T03:04:05Z");
    apns.unregister(TOKEN, since);

    PushResult result = send(target(TOKEN, ""), PushContents.alert(0));

    assertThat(result.status()).isEqualTo(Status.INVALID_TARGET);
    assertThat(result.detail()).isEqualTo("apns: Unregistered");
    assertThat(result.invalidSinceMs()).isEqualTo(since.toEpochMilli());
  }

  @Test
  void aBadDeviceTokenFailsButIsKept() throws Exception {
    // Also what a token sent to the wrong environment gets: a configuration mistake must not
    // remove every device's token.
    apns.reject(TOKEN, RejectionReason.BAD_DEVICE_TOKEN);

    PushResult result = send(target(TOKEN, ""), PushContents.alert(0));

    assertThat(result.status()).isEqualTo(Status.FAILED);
    assertThat(result.detail()).isEqualTo("apns: BadDeviceToken");
  }

  @Test
  void aTokenThatIsNotHexIsAnInvalidTargetWithoutSending() throws Exception {
    PushResult result = send(target("not-a-device-token", ""), PushContents.alert(0));

    assertThat(result.status()).isEqualTo(Status.INVALID_TARGET);
    assertThat(apns.received()).isEmpty();
  }

  @Test
  void tooManyRequestsIsRetriedUntilAccepted() throws Exception {
    apns.reject(TOKEN, RejectionReason.TOO_MANY_REQUESTS, 1);

    PushResult first = send(target(TOKEN, ""), PushContents.alert(0));
    PushResult second = send(target(TOKEN, ""), PushContents.alert(0));

    assertThat(first.status()).isEqualTo(Status.RETRY);
    assertThat(first.detail()).isEqualTo("apns: TooManyRequests");
    assertThat(second.status()).isEqualTo(Status.SENT);
    assertThat(apns.received()).extracting(FakeApns.Notification::rejection)
        .containsExactly(RejectionReason.TOO_MANY_REQUESTS, null);
  }

  @Test
  void otherRejectionsFail() throws Exception {
    apns.reject(TOKEN, RejectionReason.PAYLOAD_TOO_LARGE);

    PushResult result = send(target(TOKEN, ""), PushContents.alert(0));

    assertThat(result.status()).isEqualTo(Status.FAILED);
    assertThat(result.detail()).isEqualTo("apns: PayloadTooLarge");
  }

  @Test
  void aSigningKeyApnsDoesNotKnowFails() throws Exception {
    try (FakeApns other = FakeApns.start()) {
      provider.close();
      provider = provider(tokenAuth(other), endpoint(), endpoint());

      PushResult result = send(target(TOKEN, ""), PushContents.alert(0));

      assertThat(result.status()).isEqualTo(Status.FAILED);
      assertThat(result.detail()).isEqualTo("apns: InvalidProviderToken");
    }
  }

  @Test
  void sandboxTokensGoToTheSandbox() throws Exception {
    provider.close();
    Endpoint nowhere = new Endpoint(apns.host(), Ports.free());
    provider = provider(tokenAuth(apns), nowhere, endpoint());

    PushTarget sandbox = PushTarget.newBuilder().setApns(
        PushTarget.Apns.newBuilder().setDeviceToken(TOKEN).setSandbox(true)).build();

    assertThat(send(sandbox, PushContents.alert(0)).status()).isEqualTo(Status.SENT);
    assertThat(send(target(TOKEN, ""), PushContents.alert(0)).status())
        .isEqualTo(Status.RETRY);
  }

  @Test
  void aServerThatIsGoneIsRetried() throws Exception {
    assertThat(send(target(TOKEN, ""), PushContents.alert(0)).status()).isEqualTo(Status.SENT);
    apns.close();

    PushResult result = send(target(TOKEN, ""), PushContents.alert(0));

    assertThat(result.status()).isEqualTo(Status.RETRY);
    assertThat(result.detail()).startsWith("apns: ");
  }

  @Test
  void noAnswerInTimeIsRetried() throws Exception {
    // Accepts connections and never says a word, not even TLS.
    try (ServerSocket silent = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
      provider.close();
      Endpoint mute = new Endpoint("127.0.0.1", silent.getLocalPort());
      provider = new ApnsProvider(new ApnsProvider.Settings(tokenAuth(apns), TOPIC, mute, mute,
          Optional.of(apns.caCertificate()), 1, Duration.ofMillis(500)));

      PushResult result = send(target(TOKEN, ""), PushContents.alert(0));

      assertThat(result.status()).isEqualTo(Status.RETRY);
      assertThat(result.detail()).isEqualTo("apns: timeout");
    }
  }

  @Test
  void sendsWithCertificateAuthentication() throws Exception {
    provider.close();
    ApnsProvider.Auth certificate = new ApnsProvider.CertificateAuth(
        apns.clientCertificate("homing-notifier", "changeit"), "changeit");
    provider = provider(certificate, endpoint(), endpoint());

    PushResult result = send(target(TOKEN, ""), PushContents.alert(0));

    assertThat(result.status()).isEqualTo(Status.SENT);
    assertThat(apns.accepted().get(0).clientCertificate()).isEqualTo("CN=homing-notifier");
  }

  private PushResult send(PushTarget target, PushContent content) throws Exception {
    return provider.send(target, content).get(10, TimeUnit.SECONDS);
  }

  private static PushTarget target(String token, String topic) {
    return PushTarget.newBuilder()
        .setApns(PushTarget.Apns.newBuilder().setDeviceToken(token).setTopic(topic))
        .build();
  }

  private Endpoint endpoint() {
    return new Endpoint(apns.host(), apns.port());
  }

  private static ApnsProvider.Auth tokenAuth(FakeApns server) {
    FakeApns.SigningKey key = server.signingKey();
    return new ApnsProvider.TokenAuth(key.p8(), key.teamId(), key.keyId());
  }

  private ApnsProvider provider(ApnsProvider.Auth auth, Endpoint production, Endpoint sandbox) {
    return new ApnsProvider(new ApnsProvider.Settings(auth, TOPIC, production, sandbox,
        Optional.of(apns.caCertificate()), 1, Duration.ofSeconds(5)));
  }
}
