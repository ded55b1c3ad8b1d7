package io.homing.runtime.auth;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.jwk.JWKMatcher;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.jwk.source.OutageTolerantJWKSetSource;
import com.nimbusds.jose.proc.JWSKeySelector;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.DefaultResourceRetriever;
import com.nimbusds.jose.util.events.Event;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.MalformedURLException;
import java.net.URI;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The public keys of a JWK set URL, fetched with nimbus-jose-jwt's {@link JWKSourceBuilder}:
 *
 * <ul>
 *   <li>a fetched set is cached for {@code refresh}, and fetched again in the background, on a
 *       thread of its own, {@code refresh / 5} plus {@link #FETCH_WAIT} before it expires;
 *   <li>a token naming a {@code kid} the cached set lacks makes the verifying thread fetch the set
 *       again, at most twice per {@link #rateLimitInterval rate-limit interval} (fetches of any
 *       cause count);
 *   <li>when a fetch fails, the last set fetched keeps serving for up to {@code 10 × refresh} after
 *       it was fetched;
 *   <li>a fetch gives up after {@link #HTTP_TIMEOUT_MS} to connect and as much to read, and
 *       refuses a body over {@link #HTTP_SIZE_LIMIT} bytes.
 * </ul>
 *
 * <p>Only RSA keys (for RS256) and P-256 EC keys (for ES256) are ever used, and only for the
 * algorithm they are for: an {@code oct} key in the set is never taken as an HMAC secret.
 */
public final class JwksKeys implements Closeable {
  /** The algorithms whose keys come from the JWK set. */
  public static final Set<JWSAlgorithm> ALGORITHMS =
      Set.of(JWSAlgorithm.RS256, JWSAlgorithm.ES256);

  public static final int HTTP_TIMEOUT_MS = 500;
  public static final int HTTP_SIZE_LIMIT = 50 * 1024;

  /** How long a thread that needs the set waits for a fetch another thread is making. */
  public static final Duration FETCH_WAIT = Duration.ofSeconds(1);

  private static final Duration MAX_RATE_LIMIT_INTERVAL = Duration.ofSeconds(30);
  private static final Logger log = LoggerFactory.getLogger(JwksKeys.class);

  private final URI url;
  private final JWKSource<SecurityContext> source;

  public JwksKeys(URI url, Duration refresh) {
    this.url = url;
    long ttl = refresh.toMillis();
    ThreadFactory daemons =
        runnable -> {
          Thread thread = new Thread(runnable, "homing-jwks-refresh");
          thread.setDaemon(true);
          return thread;
        };
    try {
      this.source =
          JWKSourceBuilder.<SecurityContext>create(
                  url.toURL(),
                  new DefaultResourceRetriever(HTTP_TIMEOUT_MS, HTTP_TIMEOUT_MS, HTTP_SIZE_LIMIT))
              .cache(ttl, FETCH_WAIT.toMillis())
              .refreshAheadCache(
                  ttl / 5,
                  null,
                  Executors.newSingleThreadExecutor(daemons),
                  true,
                  Executors.newSingleThreadScheduledExecutor(daemons),
                  true)
              .rateLimited(rateLimitInterval(refresh).toMillis())
              .outageTolerant(ttl * 10, this::onOutage)
              .build();
    } catch (MalformedURLException e) {
      throw new IllegalArgumentException("jwksUrl: " + url + " (expected: a URL)", e);
    }
  }

  /** The window in which at most two fetches happen: half of {@code refresh}, at most 30 s. */
  public static Duration rateLimitInterval(Duration refresh) {
    Duration half = refresh.dividedBy(2);
    return half.compareTo(MAX_RATE_LIMIT_INTERVAL) < 0 ? half : MAX_RATE_LIMIT_INTERVAL;
  }

  /** Selects the keys of RS256 and ES256 tokens: by {@code kid}, or every key of the right type. */
  public JWSKeySelector<SecurityContext> selector() {
    return new JWSVerificationKeySelector<>(ALGORITHMS, source);
  }

  /**
   * Fetches the set now, so that the first tokens find it cached. Blocks for up to the HTTP
   * timeouts; an unreachable URL is logged, not thrown: tokens are then refused until a fetch
   * succeeds.
   */
  public void prefetch() {
    try {
      source.get(new JWKSelector(new JWKMatcher.Builder().build()), null);
    } catch (KeySourceException e) {
      log.warn(
          "JWK set {} unavailable at startup: RS256 and ES256 tokens are refused until it answers"
              + " ({})",
          url,
          e.getMessage());
    }
  }

  private void onOutage(Event<?, ?> event) {
    if (event instanceof OutageTolerantJWKSetSource.OutageEvent<?> outage) {
      log.warn(
          "JWK set {} unavailable ({}): serving the keys fetched before, for {} ms more",
          url,
          outage.getException().getMessage(),
          outage.getRemainingTime());
    }
  }

  /** Stops the background refresh. Idempotent. */
  @Override
  public void close() {
    if (source instanceof Closeable closeable) {
      try {
        closeable.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
