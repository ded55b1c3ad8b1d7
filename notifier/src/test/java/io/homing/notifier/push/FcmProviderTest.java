package io.homing.notifier.push;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.homing.api.v1.PushTarget;
import io.homing.notifier.push.PushResult.Status;
import io.homing.testing.Ports;
import io.homing.testing.push.FakeFcm;
import io.homing.testing.push.FakeFcm.Reply;
import java.net.URI;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class FcmProviderTest {
  private static final String TOKEN = "fcm-registration-token-1";

  private final FakeFcm fcm = FakeFcm.start();
  private final MutableClock clock = new MutableClock();
  private FcmProvider provider = provider(fcm.baseUrl(), Optional.empty());

  @AfterEach
  void close() {
    provider.close();
    fcm.close();
  }

  @Test
  void sendsAnAlertAsANotificationWithDataAndCollapseKey() throws Exception {
    PushContent content = PushContents.alert(clock.millis() + 3_600_000);

    PushResult result = send(TOKEN, content);

    assertThat(result.status()).isEqualTo(Status.SENT);
    assertThat(result.detail()).isEqualTo("fcm: projects/homing-test/messages/1");
    JsonNode message = fcm.messages().get(0);
    assertThat(message.path("token").asText()).isEqualTo(TOKEN);
    assertThat(message.path("notification").path("title").asText()).isEqualTo("New message");
    assertThat(message.path("notification").path("body").asText())
        .isEqualTo("3 messages are waiting");
    JsonNode data = message.path("data");
    assertThat(data.path("room").asText()).isEqualTo("blue");
    assertThat(data.path("homing_waiting").asText()).isEqualTo("3");
    assertThat(data.path("homing_message_id").asText()).isEqualTo("m-7");
    assertThat(data.path("homing_seq").asText()).isEqualTo("7");
    JsonNode android = message.path("android");
    assertThat(android.path("collapse_key").asText()).isEqualTo("u1");
    assertThat(android.path("priority").asText()).isEqualTo("HIGH");
    assertThat(android.path("ttl").asText()).isEqualTo("3600s");
    JsonNode apns = message.path("apns");
    assertThat(apns.path("headers").path("apns-collapse-id").asText()).isEqualTo("u1");
    assertThat(apns.path("headers").path("apns-priority").asText()).isEqualTo("10");
    assertThat(apns.path("headers").path("apns-expiration").asLong())
        .isEqualTo(content.expiresAtMs() / 1000);
    assertThat(apns.has("payload")).isFalse();
  }

  @Test
  void sendsSilentAsDataOnlyWithContentAvailable() throws Exception {
    assertThat(send(TOKEN, PushContents.silent()).status()).isEqualTo(Status.SENT);

    JsonNode message = fcm.messages().get(0);
    assertThat(message.has("notification")).isFalse();
    assertThat(message.path("data").path("homing_waiting").asText()).isEqualTo("3");
    assertThat(message.path("android").has("ttl")).isFalse();
    assertThat(message.path("apns").path("headers").path("apns-priority").asText())
        .isEqualTo("5");
    assertThat(message.path("apns").path("payload").path("aps").path("content-available")
        .asInt()).isEqualTo(1);
  }

  @Test
  void reusesTheAccessTokenUntilAMinuteBeforeItExpires() throws Exception {
    send(TOKEN, PushContents.silent());
    clock.advance(Duration.ofMinutes(30));
    send(TOKEN, PushContents.silent());
    assertThat(fcm.tokenRequests()).isEqualTo(1);

    // The fake's tokens live 3599 s; the provider stops using one at 3539 s.
    clock.advance(Duration.ofSeconds(3539 - 30 * 60));
    assertThat(send(TOKEN, PushContents.silent()).status()).isEqualTo(Status.SENT);
    assertThat(fcm.tokenRequests()).isEqualTo(2);
    assertThat(fcm.messages()).hasSize(3);
  }

  @Test
  void unregisteredIsAnInvalidTarget() throws Exception {
    fcm.reply(TOKEN, Reply.unregistered());

    PushResult result = send(TOKEN, PushContents.alert(0));

    assertThat(result.status()).isEqualTo(Status.INVALID_TARGET);
    assertThat(result.detail()).isEqualTo("fcm: UNREGISTERED");
  }

  @Test
  void aTokenOfAnotherSenderFailsButIsKept() throws Exception {
    // Also what every token gets from a service account of another project.
    fcm.reply(TOKEN, Reply.senderIdMismatch());

    PushResult result = send(TOKEN, PushContents.alert(0));

    assertThat(result.status()).isEqualTo(Status.FAILED);
    assertThat(result.detail()).isEqualTo("fcm: SENDER_ID_MISMATCH");
  }

  @Test
  void anInvalidArgumentAboutTheTokenIsAnInvalidTarget() throws Exception {
    fcm.reply(TOKEN, Reply.invalidArgument("message.token"));

    assertThat(send(TOKEN, PushContents.alert(0)).status()).isEqualTo(Status.INVALID_TARGET);
  }

  @Test
  void anotherInvalidArgumentFails() throws Exception {
    fcm.reply(TOKEN, Reply.invalidArgument("message.android.ttl"));

    PushResult result = send(TOKEN, PushContents.alert(0));

    assertThat(result.status()).isEqualTo(Status.FAILED);
    assertThat(result.detail()).isEqualTo("fcm: INVALID_ARGUMENT");
  }

  @Test
  void quotaExceededIsRetriedAfterItsRetryAfter() throws Exception {
    fcm.reply(TOKEN, Reply.quotaExceeded(Duration.ofSeconds(42)));

    PushResult result = send(TOKEN, PushContents.alert(0));

    assertThat(result.status()).isEqualTo(Status.RETRY);
    assertThat(result.detail()).isEqualTo("fcm: QUOTA_EXCEEDED");
    assertThat(result.retryAfter()).isEqualTo(Duration.ofSeconds(42));
  }

  @Test
  void unavailableIsRetriedUntilFcmIsBack() throws Exception {
    fcm.reply(TOKEN, Reply.unavailable(), 2);

    PushResult first = send(TOKEN, PushContents.alert(0));
    PushResult second = send(TOKEN, PushContents.alert(0));
    PushResult third = send(TOKEN, PushContents.alert(0));

    assertThat(first.status()).isEqualTo(Status.RETRY);
    assertThat(first.retryAfter()).isNull();
    assertThat(second.status()).isEqualTo(Status.RETRY);
    assertThat(third.status()).isEqualTo(Status.SENT);
  }

  @Test
  void aRefusedAccessTokenIsReplacedAndTheSendTriedAgain() throws Exception {
    send(TOKEN, PushContents.silent());
    fcm.revokeAccessTokens();

    PushResult result = send(TOKEN, PushContents.silent());

    assertThat(result.status()).isEqualTo(Status.SENT);
    assertThat(fcm.tokenRequests()).isEqualTo(2);
    assertThat(fcm.messages()).hasSize(2); // the refused attempt was not authenticated
  }

  @Test
  void credentialsRefusedTwiceFail() throws Exception {
    fcm.reply(TOKEN, Reply.unauthenticated());

    PushResult result = send(TOKEN, PushContents.silent());

    assertThat(result.status()).isEqualTo(Status.FAILED);
    assertThat(result.detail()).isEqualTo("fcm: credentials refused");
    assertThat(fcm.tokenRequests()).isEqualTo(2);
    assertThat(fcm.messages()).hasSize(2);
  }

  @Test
  void aKeyTheTokenEndpointRefusesFails() throws Exception {
    try (FakeFcm other = FakeFcm.start()) {
      provider.close();
      // Another account's key, exchanged at this fake's token endpoint (the override).
      provider = new FcmProvider(new FcmProvider.Settings(other.serviceAccountFile(),
          fcm.baseUrl(), Optional.of(fcm.tokenUri()), Duration.ofSeconds(5)), clock);

      PushResult result = send(TOKEN, PushContents.silent());

      assertThat(result.status()).isEqualTo(Status.FAILED);
      assertThat(result.detail())
          .isEqualTo("fcm: credentials refused (token request answered 400)");
      assertThat(fcm.tokenRequests()).isEqualTo(1);
      assertThat(fcm.messages()).isEmpty();
    }
  }

  @Test
  void fcmUnreachableIsRetried() throws Exception {
    provider.close();
    provider = provider(URI.create("http://127.0.0.1:" + Ports.free()), Optional.empty());

    PushResult result = send(TOKEN, PushContents.silent());

    assertThat(result.status()).isEqualTo(Status.RETRY);
    assertThat(result.detail()).startsWith("fcm: java.net.ConnectException");
  }

  private PushResult send(String token, PushContent content) throws Exception {
    PushTarget target = PushTarget.newBuilder()
        .setFcm(PushTarget.Fcm.newBuilder().setRegistrationToken(token))
        .build();
    return provider.send(target, content).get(10, TimeUnit.SECONDS);
  }

  private FcmProvider provider(URI baseUrl, Optional<URI> tokenUri) {
    return new FcmProvider(new FcmProvider.Settings(
        fcm.serviceAccountFile(), baseUrl, tokenUri, Duration.ofSeconds(5)), clock);
  }
}
