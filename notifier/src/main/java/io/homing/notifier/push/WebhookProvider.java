package io.homing.notifier.push;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.homing.api.PushTargets;
import io.homing.api.WebhookSignature;
import io.homing.api.v1.PushTarget;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Sends a notification to an application's HTTP endpoint: a JSON POST signed the Standard
 * Webhooks way ({@link WebhookSignature}), with {@code webhook-id} the notification's id so the
 * receiver can drop a retry it already has.
 *
 * <p>Only URLs starting with an allowed prefix are called: a client registers the URL, so without
 * the list it could make the notifier call anything the notifier can reach. Redirects are not
 * followed, for the same reason, and URLs with user info or dot segments are refused.
 *
 * <p>Answers: 2xx {@code SENT}; 410 Gone {@code INVALID_TARGET}; 429, 5xx, a timeout or a
 * connection failure {@code RETRY} (with the Retry-After it sent); anything else {@code FAILED}.
 * Futures complete on the HTTP client's threads.
 */
public final class WebhookProvider implements PushProvider {
  private static final String JSON_TYPE = "homing.notification";

  private final Settings settings;
  private final List<byte[]> keys;
  private final HttpClient http;
  private final ObjectMapper json = new ObjectMapper();

  /**
   * How the provider signs and where it may send.
   *
   * @param secrets the signing secrets, {@code whsec_<base64>}; at least one. Every one signs
   *     each request, so a receiver can move to a new secret while the old still works.
   * @param allowedUrlPrefixes a target's URL must start with one of these (e.g. {@code
   *     https://hooks.example.com/}); at least one
   * @param timeout how long to wait to connect, and then for the response's headers
   */
  public record Settings(List<String> secrets, List<String> allowedUrlPrefixes, Duration timeout) {
    public Settings {
      secrets = List.copyOf(secrets);
      allowedUrlPrefixes = List.copyOf(allowedUrlPrefixes);
      if (secrets.isEmpty()) {
        throw new IllegalArgumentException("webhook secrets: none (expected: at least one)");
      }
      secrets.forEach(WebhookSignature::key);
      if (allowedUrlPrefixes.isEmpty()) {
        throw new IllegalArgumentException("webhook URL prefixes: none (expected: at least one)");
      }
      for (String prefix : allowedUrlPrefixes) {
        String invalid = PushTargets.invalidPrefix(prefix);
        if (invalid != null) {
          throw new IllegalArgumentException(invalid);
        }
      }
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("webhook timeout: " + timeout + " (expected: > 0)");
      }
    }
  }

  public WebhookProvider(Settings settings) {
    this.settings = settings;
    this.keys = settings.secrets().stream().map(WebhookSignature::key).toList();
    this.http = HttpClient.newBuilder()
        .connectTimeout(settings.timeout())
        .followRedirects(HttpClient.Redirect.NEVER)
        // One request per notification gains nothing from HTTP/2, and a cleartext h2c upgrade
        // confuses some receivers.
        .version(HttpClient.Version.HTTP_1_1)
        .build();
  }

  @Override
  public PushTarget.KindCase kind() {
    return PushTarget.KindCase.WEBHOOK;
  }

  @Override
  public CompletableFuture<PushResult> send(PushTarget target, PushContent content) {
    if (target.getKindCase() != PushTarget.KindCase.WEBHOOK) {
      return CompletableFuture.completedFuture(
          PushResult.failed("webhook: not a webhook target (" + target.getKindCase() + ")"));
    }
    String url = target.getWebhook().getUrl();
    if (!PushTargets.webhookAllowed(url, settings.allowedUrlPrefixes())) {
      // Refused, not invalid: a --push-webhook-allow narrower than the edges' is the
      // notifier's mistake, and must not remove the device's target.
      return CompletableFuture.completedFuture(PushResult.failed("webhook: URL not allowed"));
    }
    URI uri = URI.create(url);
    byte[] body;
    try {
      body = json.writeValueAsBytes(body(content));
    } catch (JsonProcessingException e) {
      return CompletableFuture.completedFuture(PushResult.failed("webhook: " + e.getMessage()));
    }
    long timestamp = Instant.now().getEpochSecond();
    HttpRequest request = HttpRequest.newBuilder(uri)
        .timeout(settings.timeout())
        .header("content-type", "application/json")
        .header("webhook-id", content.id())
        .header("webhook-timestamp", Long.toString(timestamp))
        .header("webhook-signature", WebhookSignature.header(keys, content.id(), timestamp, body))
        .POST(HttpRequest.BodyPublishers.ofByteArray(body))
        .build();
    return http.sendAsync(request, HttpResponse.BodyHandlers.discarding())
        .handle((response, error) -> error == null ? result(response) : result(error));
  }

  private ObjectNode body(PushContent content) {
    ObjectNode body = json.createObjectNode()
        .put("type", JSON_TYPE)
        .put("id", content.id())
        .put("user_id", content.userId())
        .put("device_id", content.deviceId())
        .put("mode", content.mode().name())
        .put("title", content.title())
        .put("body", content.body());
    ObjectNode data = body.putObject("data");
    content.data().forEach(data::put);
    return body.put("waiting", content.waiting())
        .put("message_id", content.messageId())
        .put("seq", content.seq());
  }

  private static PushResult result(HttpResponse<Void> response) {
    int status = response.statusCode();
    String detail = "webhook: " + status;
    if (status >= 200 && status < 300) {
      return PushResult.sent(detail);
    }
    if (status == 410) {
      return PushResult.invalidTarget(detail, System.currentTimeMillis());
    }
    if (status == 429 || status >= 500) {
      return PushResult.retry(detail, RetryAfter.of(response.headers(), Instant.now()));
    }
    return PushResult.failed(detail);
  }

  private static PushResult result(Throwable error) {
    Throwable cause = error instanceof CompletionException && error.getCause() != null
        ? error.getCause() : error;
    if (cause instanceof HttpTimeoutException) {
      return PushResult.retry("webhook: timeout", null);
    }
    return PushResult.retry("webhook: " + cause, null);
  }

  /**
   * Nothing to release: Java 17's {@link HttpClient} cannot be closed, its connections go when it
   * is collected.
   */
  @Override
  public void close() {}
}
