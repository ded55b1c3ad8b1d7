package io.homing.notifier.push;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.homing.api.v1.PushTarget;
import io.homing.notifier.push.FcmAccessTokens.AccessToken;
import io.homing.notifier.push.FcmAccessTokens.TokenException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Sends to Firebase Cloud Messaging through its HTTP v1 API, authenticated by a service account
 * ({@link FcmAccessTokens}). How answers map to results: {@link FcmResponse}. A 401 means the
 * access token was refused: it is dropped and the send tried once more with a new one; a second
 * 401 is {@code FAILED} ("fcm: credentials refused").
 *
 * <p>Everything is asynchronous ({@link HttpClient#sendAsync}); futures complete on the HTTP
 * client's threads.
 */
public final class FcmProvider implements PushProvider {
  /** Google's FCM endpoint. */
  public static final URI DEFAULT_BASE_URL = URI.create("https://fcm.googleapis.com");

  private final Settings settings;
  private final FcmServiceAccount account;
  private final URI sendUri;
  private final HttpClient http;
  private final FcmAccessTokens tokens;
  private final Clock clock;
  private final ObjectMapper json = new ObjectMapper();

  /**
   * Where and as whom to send.
   *
   * @param serviceAccountFile the service account's JSON key file (project_id, client_email,
   *     private_key, private_key_id, token_uri)
   * @param baseUrl FCM's address; {@link #DEFAULT_BASE_URL} in production
   * @param tokenUri when present, where access tokens are got instead of the file's token_uri
   * @param timeout how long to wait to connect, and then for an answer
   */
  public record Settings(
      Path serviceAccountFile, URI baseUrl, Optional<URI> tokenUri, Duration timeout) {
    public Settings {
      Objects.requireNonNull(serviceAccountFile, "serviceAccountFile");
      Objects.requireNonNull(baseUrl, "baseUrl");
      Objects.requireNonNull(tokenUri, "tokenUri");
      requireHttpUrl("fcm baseUrl", baseUrl);
      tokenUri.ifPresent(uri -> requireHttpUrl("fcm tokenUri", uri));
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("fcm timeout: " + timeout + " (expected: > 0)");
      }
    }
  }

  /**
   * Reads the service account.
   *
   * @throws IllegalArgumentException when the file lacks a field or its key is not RSA PKCS#8
   * @throws java.io.UncheckedIOException when the file cannot be read
   */
  public FcmProvider(Settings settings) {
    this(settings, Clock.systemUTC());
  }

  /** With the clock that dates the OAuth JWTs and ages access tokens. */
  FcmProvider(Settings settings, Clock clock) {
    this.settings = settings;
    this.clock = clock;
    this.account =
        FcmServiceAccount.load(settings.serviceAccountFile(), settings.tokenUri().orElse(null));
    String base = settings.baseUrl().toString().replaceAll("/+$", "");
    this.sendUri = URI.create(base + "/v1/projects/" + account.projectId() + "/messages:send");
    this.http = HttpClient.newBuilder().connectTimeout(settings.timeout()).build();
    this.tokens = new FcmAccessTokens(account, http, settings.timeout(), clock);
  }

  @Override
  public PushTarget.KindCase kind() {
    return PushTarget.KindCase.FCM;
  }

  @Override
  public CompletableFuture<PushResult> send(PushTarget target, PushContent content) {
    if (target.getKindCase() != PushTarget.KindCase.FCM) {
      return CompletableFuture.completedFuture(
          PushResult.failed("fcm: not an FCM target (" + target.getKindCase() + ")"));
    }
    String body;
    try {
      body = json.writeValueAsString(FcmMessage.of(
          json, target.getFcm().getRegistrationToken(), content, clock.millis()));
    } catch (JsonProcessingException e) {
      return CompletableFuture.completedFuture(PushResult.failed("fcm: " + e.getMessage()));
    }
    return attempt(body, true);
  }

  /** Sends with a current access token; on a 401, once more with a new one when {@code again}. */
  private CompletableFuture<PushResult> attempt(String body, boolean again) {
    return tokens.get()
        .thenCompose(token -> post(body, token).thenCompose(response -> {
          if (response.statusCode() != FcmResponse.UNAUTHORIZED) {
            return CompletableFuture.completedFuture(FcmResponse.result(response, json));
          }
          tokens.refused(token);
          return again
              ? attempt(body, false)
              : CompletableFuture.completedFuture(PushResult.failed("fcm: credentials refused"));
        }))
        .exceptionally(FcmProvider::result);
  }

  private CompletableFuture<HttpResponse<String>> post(String body, AccessToken token) {
    HttpRequest request = HttpRequest.newBuilder(sendUri)
        .timeout(settings.timeout())
        .header("authorization", "Bearer " + token.value())
        .header("content-type", "application/json; charset=UTF-8")
        .POST(HttpRequest.BodyPublishers.ofString(body))
        .build();
    return http.sendAsync(request, HttpResponse.BodyHandlers.ofString());
  }

  private static PushResult result(Throwable error) {
    Throwable cause = error;
    while (cause instanceof CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof TokenException refused) {
      return refused.retry()
          ? PushResult.retry(refused.getMessage(), null)
          : PushResult.failed(refused.getMessage());
    }
    if (cause instanceof HttpTimeoutException) {
      return PushResult.retry("fcm: timeout", null);
    }
    return PushResult.retry("fcm: " + cause, null);
  }

  private static void requireHttpUrl(String name, URI url) {
    String scheme = url.getScheme();
    if (!("http".equalsIgnoreCase(scheme) || "https".equalsIgnoreCase(scheme))
        || url.getHost() == null) {
      throw new IllegalArgumentException(
          name + ": " + url + " (expected: an http or https URL with a host)");
    }
  }

  /**
   * Nothing to release: Java 17's {@link HttpClient} cannot be closed, its connections go when it
   * is collected.
   */
  @Override
  public void close() {}
}
