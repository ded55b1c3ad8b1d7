package io.homing.testing.push;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * An application's webhook endpoint on 127.0.0.1: it checks the Standard Webhooks signature
 * ({@code webhook-id}, {@code webhook-timestamp} within 5 minutes of its clock, a {@code v1}
 * signature in {@code webhook-signature} by its secret) and answers 401 to a request that fails,
 * else records it and answers as scripted for its path ({@link #reply}), else 200.
 *
 * <p>It checks signatures on its own, not with the notifier's code, so that a test of the
 * notifier's signing is a test against an independent receiver. Thread-safe; {@link #close()}
 * stops it.
 */
public final class WebhookReceiver implements AutoCloseable {
  private static final Duration TOLERANCE = Duration.ofMinutes(5);

  /**
   * How to answer.
   *
   * @param status the HTTP status
   * @param retryAfter a Retry-After header, or null for none
   * @param delay how long to wait before answering (Duration.ZERO: at once)
   */
  public record Reply(int status, Duration retryAfter, Duration delay) {
    /** Answers {@code status} at once. */
    public static Reply status(int status) {
      return new Reply(status, null, Duration.ZERO);
    }

    /** The same, with a Retry-After header. */
    public Reply withRetryAfter(Duration retryAfter) {
      return new Reply(status, retryAfter, delay);
    }

    /** The same, answered {@code delay} late. */
    public Reply withDelay(Duration delay) {
      return new Reply(status, retryAfter, delay);
    }
  }

  /**
   * A request that passed the signature check.
   *
   * @param path the request's path
   * @param headers its headers, names in lower case, the first value of each
   * @param body the body as received
   * @param status what the receiver answered
   */
  public record Delivery(String path, Map<String, String> headers, String body, int status) {
    /** The body, parsed. */
    public JsonNode json() {
      try {
        return new ObjectMapper().readTree(body);
      } catch (IOException e) {
        throw new UncheckedIOException("not JSON: " + body, e);
      }
    }
  }

  private record Script(Reply reply, AtomicInteger left) {}

  private final byte[] key;
  private final HttpServer server;
  private final ExecutorService executor;
  private final Map<String, Script> scripts = new ConcurrentHashMap<>();
  private final List<Delivery> deliveries = new CopyOnWriteArrayList<>();
  private final List<String> refusals = new CopyOnWriteArrayList<>();

  private WebhookReceiver(byte[] key) throws IOException {
    this.key = key;
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    executor = Executors.newCachedThreadPool(task -> {
      Thread thread = new Thread(task, "webhook-receiver");
      thread.setDaemon(true);
      return thread;
    });
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
  }

  /** Starts on a free loopback port, checking signatures by {@code secret} ({@code whsec_…}). */
  public static WebhookReceiver start(String secret) {
    if (!secret.startsWith("whsec_")) {
      throw new IllegalArgumentException("secret: expected whsec_<base64>");
    }
    try {
      return new WebhookReceiver(Base64.getDecoder().decode(secret.substring(6)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code http://127.0.0.1:<port>}, the prefix of every URL it answers. */
  public String baseUrl() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** The URL of {@code path} (starting with /). */
  public String url(String path) {
    return baseUrl() + path;
  }

  /** Answers {@code reply} to every signed request to {@code path}. */
  public void reply(String path, Reply reply) {
    reply(path, reply, Integer.MAX_VALUE);
  }

  /** Answers {@code reply} to the next {@code times} signed requests to it, then 200 again. */
  public void reply(String path, Reply reply, int times) {
    scripts.put(path, new Script(reply, new AtomicInteger(times)));
  }

  /** Every request that passed the signature check, in order, whatever the answer. */
  public List<Delivery> deliveries() {
    return List.copyOf(deliveries);
  }

  /** Why requests were refused with 401, in order. */
  public List<String> refusals() {
    return List.copyOf(refusals);
  }

  /** Stops at once; requests being delayed are cut off. */
  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      byte[] body = exchange.getRequestBody().readAllBytes();
      Map<String, String> headers = new TreeMap<>();
      exchange.getRequestHeaders().forEach((name, values) ->
          headers.put(name.toLowerCase(Locale.ROOT), values.get(0)));
      String problem = problem(headers, body);
      if (problem != null) {
        refusals.add(problem);
        exchange.sendResponseHeaders(401, -1);
        return;
      }
      String path = exchange.getRequestURI().getPath();
      Script script = scripts.get(path);
      Reply reply = script != null && script.left().getAndDecrement() > 0
          ? script.reply() : Reply.status(200);
      deliveries.add(new Delivery(path, Map.copyOf(headers),
          new String(body, StandardCharsets.UTF_8), reply.status()));
      if (!reply.delay().isZero()) {
        Thread.sleep(reply.delay().toMillis());
      }
      if (reply.retryAfter() != null) {
        exchange.getResponseHeaders()
            .set("retry-after", Long.toString(reply.retryAfter().toSeconds()));
      }
      exchange.sendResponseHeaders(reply.status(), -1);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** What is wrong with the request's signature, or null when it is genuine. */
  private String problem(Map<String, String> headers, byte[] body) {
    String id = headers.get("webhook-id");
    String timestamp = headers.get("webhook-timestamp");
    String signatures = headers.get("webhook-signature");
    if (id == null || timestamp == null || signatures == null) {
      return "missing webhook-id, webhook-timestamp or webhook-signature";
    }
    long seconds;
    try {
      seconds = Long.parseLong(timestamp);
    } catch (NumberFormatException e) {
      return "webhook-timestamp not a number: " + timestamp;
    }
    if (Math.abs(Instant.now().getEpochSecond() - seconds) > TOLERANCE.toSeconds()) {
      return "webhook-timestamp " + seconds + " more than " + TOLERANCE + " away";
    }
    byte[] expected = ("v1," + hmac(id + "." + seconds + ".", body))
        .getBytes(StandardCharsets.US_ASCII);
    for (String signature : signatures.split(" ")) {
      if (MessageDigest.isEqual(expected, signature.getBytes(StandardCharsets.US_ASCII))) {
        return null;
      }
    }
    return "no v1 signature by the secret in: " + signatures;
  }

  private String hmac(String prefix, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      mac.update(prefix.getBytes(StandardCharsets.UTF_8));
      return Base64.getEncoder().encodeToString(mac.doFinal(body));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
