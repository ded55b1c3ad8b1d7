package io.homing.notifier.push;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.io.IOException;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * OAuth2 access tokens for FCM, got the service-account way (RFC 7523): an RS256 JWT signed with
 * the account's key is exchanged at its token URI. A token is reused until a minute before it
 * expires; one exchange at a time, shared by every send waiting for it. Nothing here blocks: the
 * exchange is an asynchronous HTTP call.
 */
final class FcmAccessTokens {
  static final String SCOPE = "https://www.googleapis.com/auth/firebase.messaging";

  /** Refresh this long before the token expires, so a send never carries a dying one. */
  private static final Duration MARGIN = Duration.ofMinutes(1);

  private static final Duration JWT_LIFETIME = Duration.ofHours(1);
  private static final String GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer";

  /** An access token and when it stops being used. */
  record AccessToken(String value, Instant refreshAt) {}

  /**
   * Why no token could be had.
   *
   * @param retry whether trying later may help (a 5xx or a network failure), or the credentials
   *     themselves were refused
   */
  static final class TokenException extends Exception {
    private static final long serialVersionUID = 1L;
    private final boolean retry;

    TokenException(String message, boolean retry, Throwable cause) {
      super(message, cause);
      this.retry = retry;
    }

    boolean retry() {
      return retry;
    }
  }

  private final FcmServiceAccount account;
  private final HttpClient http;
  private final Duration timeout;
  private final Clock clock;
  private final ObjectMapper json = new ObjectMapper();
  private CompletableFuture<AccessToken> current;

  FcmAccessTokens(FcmServiceAccount account, HttpClient http, Duration timeout, Clock clock) {
    this.account = account;
    this.http = http;
    this.timeout = timeout;
    this.clock = clock;
  }

  /**
   * A token good for a while, from the cache or a new exchange. Completes exceptionally with a
   * {@link TokenException}.
   */
  synchronized CompletableFuture<AccessToken> get() {
    if (current == null || stale(current)) {
      current = exchange();
    }
    return current;
  }

  /** Forgets {@code token}, which FCM refused, unless a newer one already replaced it. */
  synchronized void refused(AccessToken token) {
    if (current != null && current.isDone() && !current.isCompletedExceptionally()
        && current.join() == token) {
      current = null;
    }
  }

  private boolean stale(CompletableFuture<AccessToken> token) {
    if (!token.isDone()) {
      return false;
    }
    if (token.isCompletedExceptionally()) {
      return true;
    }
    return !clock.instant().isBefore(token.join().refreshAt());
  }

  private CompletableFuture<AccessToken> exchange() {
    String form;
    try {
      form = "grant_type=" + URLEncoder.encode(GRANT_TYPE, StandardCharsets.UTF_8)
          + "&assertion=" + URLEncoder.encode(assertion(), StandardCharsets.UTF_8);
    } catch (JOSEException e) {
      return CompletableFuture.failedFuture(
          new TokenException("fcm: cannot sign the token request", false, e));
    }
    HttpRequest request = HttpRequest.newBuilder(account.tokenUri())
        .timeout(timeout)
        .header("content-type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString(form))
        .build();
    return http.sendAsync(request, HttpResponse.BodyHandlers.ofString())
        .handle((response, error) -> {
          if (error != null) {
            throw new CompletionException(
                new TokenException("fcm: token request failed: " + error, true, error));
          }
          return token(response);
        });
  }

  private String assertion() throws JOSEException {
    Instant now = clock.instant();
    SignedJWT jwt = new SignedJWT(
        new JWSHeader.Builder(JWSAlgorithm.RS256)
            .type(JOSEObjectType.JWT)
            .keyID(account.privateKeyId())
            .build(),
        new JWTClaimsSet.Builder()
            .issuer(account.clientEmail())
            .audience(account.tokenUri().toString())
            .claim("scope", SCOPE)
            .issueTime(Date.from(now))
            .expirationTime(Date.from(now.plus(JWT_LIFETIME)))
            .build());
    jwt.sign(new RSASSASigner(account.privateKey()));
    return jwt.serialize();
  }

  private AccessToken token(HttpResponse<String> response) {
    int status = response.statusCode();
    if (status != 200) {
      // 4xx: the account or its key is refused (invalid_grant); 5xx: Google's trouble.
      boolean retry = status >= 500 || status == 429;
      throw new CompletionException(new TokenException(retry
          ? "fcm: token request answered " + status
          : "fcm: credentials refused (token request answered " + status + ")", retry, null));
    }
    try {
      JsonNode body = json.readTree(response.body());
      String value = body.path("access_token").asText("");
      long expiresIn = body.path("expires_in").asLong(0);
      if (value.isEmpty() || expiresIn <= 0) {
        throw new IOException("no access_token or expires_in");
      }
      return new AccessToken(value, clock.instant().plusSeconds(expiresIn).minus(MARGIN));
    } catch (IOException e) {
      throw new CompletionException(
          new TokenException("fcm: bad token response: " + e.getMessage(), true, e));
    }
  }
}
