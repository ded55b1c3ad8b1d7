package io.homing.notifier.push;

import com.eatthepath.pushy.apns.ApnsClient;
import com.eatthepath.pushy.apns.ApnsClientBuilder;
import com.eatthepath.pushy.apns.PushNotificationResponse;
import io.homing.api.PushTargets;
import io.homing.api.v1.PushTarget;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends to the Apple Push Notification service with Pushy: one client per environment
 * (production, sandbox), made at its first send. What goes in the request: {@link
 * ApnsNotification}.
 *
 * <p>Answers: accepted {@code SENT}; Unregistered (with Apple's timestamp), BadDeviceToken and
 * DeviceTokenNotForTopic {@code INVALID_TARGET}; TooManyRequests, InternalServerError,
 * ServiceUnavailable, Shutdown, a connection failure or no answer in time {@code RETRY}; any other
 * reason (a provider token refused, a certificate refused, a payload too large) {@code FAILED}.
 *
 * <p>Pushy runs on Netty 4.2 here, which it does not support officially: each client gets the
 * event loop group Pushy makes itself, because Pushy rejects Netty 4.2's {@code
 * MultiThreadIoEventLoopGroup}. Futures complete on that group's thread: keep dependent stages
 * short.
 */
public final class ApnsProvider implements PushProvider {
  private static final Logger log = LoggerFactory.getLogger(ApnsProvider.class);
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(10);

  /** How the provider authenticates to APNs. */
  public sealed interface Auth permits TokenAuth, CertificateAuth {}

  /**
   * Token-based: a signing key from Apple's developer site.
   *
   * @param signingKey the .p8 file (PKCS#8 PEM, EC P-256)
   * @param teamId the developer team's id
   * @param keyId the key's id
   */
  public record TokenAuth(Path signingKey, String teamId, String keyId) implements Auth {
    public TokenAuth {
      Objects.requireNonNull(signingKey, "signingKey");
      requireText("teamId", teamId);
      requireText("keyId", keyId);
    }
  }

  /**
   * Certificate-based: the app's push certificate and key.
   *
   * @param p12 the PKCS#12 file
   * @param password its password ("" for none)
   */
  public record CertificateAuth(Path p12, String password) implements Auth {
    public CertificateAuth {
      Objects.requireNonNull(p12, "p12");
      Objects.requireNonNull(password, "password");
    }
  }

  /** Where an APNs environment listens. */
  public record Endpoint(String host, int port) {
    public Endpoint {
      requireText("host", host);
      if (port < 1 || port > 65_535) {
        throw new IllegalArgumentException("apns port: " + port + " (expected: 1..65535)");
      }
    }
  }

  /** Apple's production environment. */
  public static final Endpoint PRODUCTION =
      new Endpoint(ApnsClientBuilder.PRODUCTION_APNS_HOST, ApnsClientBuilder.DEFAULT_APNS_PORT);

  /** Apple's development environment, for tokens of apps built for development. */
  public static final Endpoint SANDBOX =
      new Endpoint(ApnsClientBuilder.DEVELOPMENT_APNS_HOST, ApnsClientBuilder.DEFAULT_APNS_PORT);

  /**
   * How to reach APNs.
   *
   * @param auth a signing key or a certificate
   * @param defaultTopic the apns-topic (the app's bundle id) of targets that name none; "" for
   *     none, and then such targets fail
   * @param production where production tokens go: {@link #PRODUCTION}
   * @param sandbox where sandbox tokens go: {@link #SANDBOX}
   * @param trustedCa when present, a PEM file of the only CA trusted (tests); else the JDK's
   * @param concurrentConnections connections per environment, at least 1
   * @param timeout how long a send may take, connecting included, before it is RETRY
   */
  public record Settings(
      Auth auth,
      String defaultTopic,
      Endpoint production,
      Endpoint sandbox,
      Optional<Path> trustedCa,
      int concurrentConnections,
      Duration timeout) {
    public Settings {
      Objects.requireNonNull(auth, "auth");
      Objects.requireNonNull(defaultTopic, "defaultTopic");
      Objects.requireNonNull(production, "production");
      Objects.requireNonNull(sandbox, "sandbox");
      Objects.requireNonNull(trustedCa, "trustedCa");
      if (concurrentConnections < 1) {
        throw new IllegalArgumentException(
            "apns concurrentConnections: " + concurrentConnections + " (expected: >= 1)");
      }
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("apns timeout: " + timeout + " (expected: > 0)");
      }
    }
  }

  private final Settings settings;
  private final ApnsCredentials credentials;
  private ApnsClient productionClient;
  private ApnsClient sandboxClient;
  private boolean closed;

  /**
   * Reads the key or certificate and the CA; connects at the first send.
   *
   * @throws IllegalArgumentException when a file is not what it should be
   * @throws java.io.UncheckedIOException when a file cannot be read
   */
  public ApnsProvider(Settings settings) {
    this.settings = settings;
    this.credentials = ApnsCredentials.load(settings.auth(), settings.trustedCa());
  }

  @Override
  public PushTarget.KindCase kind() {
    return PushTarget.KindCase.APNS;
  }

  @Override
  public CompletableFuture<PushResult> send(PushTarget target, PushContent content) {
    if (target.getKindCase() != PushTarget.KindCase.APNS) {
      return CompletableFuture.completedFuture(
          PushResult.failed("apns: not an APNs target (" + target.getKindCase() + ")"));
    }
    // The edges' rule: a token that breaks it can only come from a record written to Kafka.
    String invalid = PushTargets.invalid(target);
    if (invalid != null) {
      return CompletableFuture.completedFuture(
          PushResult.invalidTarget("apns: " + invalid, System.currentTimeMillis()));
    }
    PushTarget.Apns apns = target.getApns();
    String topic = apns.getTopic().isEmpty() ? settings.defaultTopic() : apns.getTopic();
    if (topic.isEmpty()) {
      return CompletableFuture.completedFuture(
          PushResult.failed("apns: no topic (the target names none, and no default topic)"));
    }
    ApnsClient client;
    try {
      client = client(apns.getSandbox());
    } catch (SSLException e) {
      return CompletableFuture.completedFuture(
          PushResult.failed("apns: cannot make a TLS client: " + e.getMessage()));
    }
    if (client == null) {
      return CompletableFuture.completedFuture(PushResult.retry("apns: closed", null));
    }
    return client.sendNotification(ApnsNotification.of(apns.getDeviceToken(), topic, content))
        .handle(ApnsProvider::result)
        .completeOnTimeout(PushResult.retry("apns: timeout", null),
            settings.timeout().toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The environment's client, made at its first use; null once closed. */
  private synchronized ApnsClient client(boolean sandbox) throws SSLException {
    if (closed) {
      return null;
    }
    if (sandbox) {
      if (sandboxClient == null) {
        sandboxClient = build(settings.sandbox());
      }
      return sandboxClient;
    }
    if (productionClient == null) {
      productionClient = build(settings.production());
    }
    return productionClient;
  }

  private ApnsClient build(Endpoint endpoint) throws SSLException {
    // No setEventLoopGroup: see the class comment.
    ApnsClientBuilder builder = new ApnsClientBuilder()
        .setApnsServer(endpoint.host(), endpoint.port())
        .setConcurrentConnections(settings.concurrentConnections())
        .setConnectionTimeout(settings.timeout());
    credentials.apply(builder);
    return builder.build();
  }

  private static PushResult result(PushNotificationResponse<?> response, Throwable error) {
    if (error != null) {
      Throwable cause = error instanceof CompletionException && error.getCause() != null
          ? error.getCause() : error;
      return PushResult.retry("apns: " + cause, null);
    }
    if (response.isAccepted()) {
      return PushResult.sent("apns: accepted");
    }
    String reason = response.getRejectionReason()
        .orElse(Integer.toString(response.getStatusCode()));
    String detail = "apns: " + reason;
    return switch (reason) {
      case "Unregistered" -> PushResult.invalidTarget(detail, response
          .getTokenInvalidationTimestamp()
          .map(Instant::toEpochMilli)
          .orElse(System.currentTimeMillis()));
      // Unregistered alone removes the token: BadDeviceToken and DeviceTokenNotForTopic also
      // come of a token sent to the wrong environment or with the wrong --apns-topic, a mistake
      // of the notifier's configuration that must not remove every device's token.
      case "TooManyRequests", "InternalServerError", "ServiceUnavailable", "Shutdown" ->
          PushResult.retry(detail, null);
      default -> PushResult.failed(detail);
    };
  }

  /**
   * Closes both clients, waiting at most 10 seconds; sends in flight fail. Idempotent; sends
   * after it answer RETRY.
   */
  @Override
  public void close() {
    CompletableFuture<?> closing;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      closing = CompletableFuture.allOf(close(productionClient), close(sandboxClient));
    }
    try {
      closing.get(CLOSE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      log.warn("APNs clients did not close cleanly in {}: {}", CLOSE_TIMEOUT, e.toString());
    }
  }

  private static CompletableFuture<Void> close(ApnsClient client) {
    return client != null ? client.close() : CompletableFuture.completedFuture(null);
  }

  private static void requireText(String name, String value) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(
          "apns " + name + ": '" + value + "' (expected: not blank)");
    }
  }
}
