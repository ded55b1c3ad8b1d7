package io.homing.notifier.push;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import io.homing.api.WebhookSignature;
import io.homing.api.v1.PushTarget;
import io.homing.notifier.push.PushResult.Status;
import io.homing.testing.Ports;
import io.homing.testing.push.WebhookReceiver;
import io.homing.testing.push.WebhookReceiver.Delivery;
import io.homing.testing.push.WebhookReceiver.Reply;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class WebhookProviderTest {
  private final String secret = newSecret();
  private final WebhookReceiver receiver = WebhookReceiver.start(secret);
  private WebhookProvider provider = provider(List.of(secret), Duration.ofSeconds(5));

  @AfterEach
  void close() {
    provider.close();
    receiver.close();
  }

  @Test
  void postsASignedJsonBodyTheReceiverVerifies() throws Exception {
    PushContent content = PushContents.alert(0);

    PushResult result = send(receiver.url("/hooks/a"), content);

    assertThat(result.status()).isEqualTo(Status.SENT);
    assertThat(result.detail()).isEqualTo("webhook: 200");
    assertThat(receiver.refusals()).isEmpty();
    Delivery delivery = receiver.deliveries().get(0);
    assertThat(delivery.path()).isEqualTo("/hooks/a");
    assertThat(delivery.headers()).containsEntry("webhook-id", content.id())
        .containsEntry("content-type", "application/json");
    long timestamp = Long.parseLong(delivery.headers().get("webhook-timestamp"));
    assertThat(timestamp).isCloseTo(Instant.now().getEpochSecond(), within(5L));
    JsonNode body = delivery.json();
    assertThat(body.path("type").asText()).isEqualTo("homing.notification");
    assertThat(body.path("id").asText()).isEqualTo(content.id());
    assertThat(body.path("user_id").asText()).isEqualTo("u1");
    assertThat(body.path("device_id").asText()).isEqualTo("d1");
    assertThat(body.path("mode").asText()).isEqualTo("ALERT");
    assertThat(body.path("title").asText()).isEqualTo("New message");
    assertThat(body.path("body").asText()).isEqualTo("3 messages are waiting");
    assertThat(body.path("data").path("room").asText()).isEqualTo("blue");
    assertThat(body.path("waiting").asLong()).isEqualTo(3);
    assertThat(body.path("message_id").asText()).isEqualTo("m-7");
    assertThat(body.path("seq").asLong()).isEqualTo(7);
  }

  @Test
  void signsWithEverySecretWhileOneIsRotated() throws Exception {
    String next = newSecret();
    provider.close();
    provider = provider(List.of(secret, next), Duration.ofSeconds(5));

    assertThat(send(receiver.url("/hooks/a"), PushContents.silent()).status())
        .isEqualTo(Status.SENT);

    Delivery delivery = receiver.deliveries().get(0);
    assertThat(delivery.json().path("mode").asText()).isEqualTo("SILENT");
    assertThat(delivery.headers().get("webhook-signature").split(" ")).hasSize(2);
    for (String each : List.of(secret, next)) {
      assertThat(WebhookSignature.verify(each, delivery.headers().get("webhook-id"),
          delivery.headers().get("webhook-timestamp"),
          delivery.body().getBytes(StandardCharsets.UTF_8),
          delivery.headers().get("webhook-signature"), Instant.now(),
          WebhookSignature.DEFAULT_TOLERANCE)).as(each).isTrue();
    }
  }

  @Test
  void goneIsAnInvalidTarget() throws Exception {
    receiver.reply("/hooks/gone", Reply.status(410));

    PushResult result = send(receiver.url("/hooks/gone"), PushContents.alert(0));

    assertThat(result.status()).isEqualTo(Status.INVALID_TARGET);
    assertThat(result.detail()).isEqualTo("webhook: 410");
    assertThat(result.invalidSinceMs()).isCloseTo(System.currentTimeMillis(),
        within(10_000L));
  }

  @Test
  void unavailableIsRetriedAfterItsRetryAfterWithTheSameId() throws Exception {
    receiver.reply("/hooks/busy", Reply.status(503).withRetryAfter(Duration.ofSeconds(7)), 1);
    PushContent content = PushContents.alert(0);

    PushResult first = send(receiver.url("/hooks/busy"), content);
    PushResult second = send(receiver.url("/hooks/busy"), content);

    assertThat(first.status()).isEqualTo(Status.RETRY);
    assertThat(first.retryAfter()).isEqualTo(Duration.ofSeconds(7));
    assertThat(second.status()).isEqualTo(Status.SENT);
    assertThat(receiver.deliveries()).extracting(delivery -> delivery.headers().get("webhook-id"))
        .containsExactly(content.id(), content.id());
  }

  @Test
  void tooManyRequestsWithoutRetryAfterIsRetried() throws Exception {
    receiver.reply("/hooks/slow-down", Reply.status(429));

    PushResult result = send(receiver.url("/hooks/slow-down"), PushContents.alert(0));

    assertThat(result.status()).isEqualTo(Status.RETRY);
    assertThat(result.retryAfter()).isNull();
  }

  @Test
  void anotherClientErrorFails() throws Exception {
    receiver.reply("/hooks/bad", Reply.status(400));

    PushResult result = send(receiver.url("/hooks/bad"), PushContents.alert(0));

    assertThat(result.status()).isEqualTo(Status.FAILED);
    assertThat(result.detail()).isEqualTo("webhook: 400");
  }

  @Test
  void aUrlOutsideTheAllowedPrefixesIsNotCalledAndNotRemoved() throws Exception {
    // The receiver answers every path; only /hooks/ is allowed. A prefix list narrower than the
    // edges' is the notifier's mistake: the send fails, the target stays.
    PushResult result = send(receiver.url("/admin/delete"), PushContents.alert(0));
    PushResult traversal = send(receiver.url("/hooks/../admin/delete"), PushContents.alert(0));

    assertThat(result.status()).isEqualTo(Status.FAILED);
    assertThat(result.detail()).isEqualTo("webhook: URL not allowed");
    assertThat(traversal.status()).isEqualTo(Status.FAILED);
    assertThat(receiver.deliveries()).isEmpty();
    assertThat(receiver.refusals()).isEmpty();
  }

  @Test
  void noAnswerInTimeIsRetried() throws Exception {
    provider.close();
    provider = provider(List.of(secret), Duration.ofMillis(300));
    receiver.reply("/hooks/slow", Reply.status(200).withDelay(Duration.ofSeconds(3)));

    PushResult result = send(receiver.url("/hooks/slow"), PushContents.alert(0));

    assertThat(result.status()).isEqualTo(Status.RETRY);
    assertThat(result.detail()).isEqualTo("webhook: timeout");
  }

  @Test
  void aRefusedConnectionIsRetried() throws Exception {
    provider.close();
    String closed = "http://127.0.0.1:" + Ports.free();
    provider = new WebhookProvider(new WebhookProvider.Settings(
        List.of(secret), List.of(closed + "/"), Duration.ofSeconds(5)));

    PushResult result = send(closed + "/hook", PushContents.alert(0));

    assertThat(result.status()).isEqualTo(Status.RETRY);
    assertThat(result.detail()).startsWith("webhook: java.net.ConnectException");
  }

  private PushResult send(String url, PushContent content) throws Exception {
    PushTarget target =
        PushTarget.newBuilder().setWebhook(PushTarget.Webhook.newBuilder().setUrl(url)).build();
    return provider.send(target, content).get(10, TimeUnit.SECONDS);
  }

  private WebhookProvider provider(List<String> secrets, Duration timeout) {
    return new WebhookProvider(
        new WebhookProvider.Settings(secrets, List.of(receiver.url("/hooks/")), timeout));
  }

  private static String newSecret() {
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    return "whsec_" + Base64.getEncoder().encodeToString(key);
  }
}
