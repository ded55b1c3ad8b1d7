package io.homing.testing.push;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fake Firebase Cloud Messaging (HTTP v1) with its OAuth token endpoint, on 127.0.0.1:
 *
 * <ul>
 *   <li>{@code POST /token} takes a service-account JWT grant ({@code grant_type=urn:ietf:params:
 *       oauth:grant-type:jwt-bearer&assertion=…}), checks the assertion's RS256 signature against
 *       the account's public key, its kid, iss, aud, scope and that it lives at most an hour, and
 *       hands out an access token. It does not compare the times with its own clock, so a test
 *       may run the client on a clock of its own.
 *   <li>{@code POST /v1/projects/{project}/messages:send} wants a current access token (else 401
 *       UNAUTHENTICATED), a message with a token and string-only data (else 400), records the
 *       message and answers as scripted for its registration token ({@link #reply}), else 200.
 * </ul>
 *
 * Errors come in FCM's shape: {@code {"error":{"code","message","status","details":[…FcmError
 * errorCode…]}}}. {@link #serviceAccountFile()} is a key file for a fresh RSA key whose token_uri
 * is this server. Thread-safe; {@link #close()} stops it.
 */
public final class FakeFcm implements AutoCloseable {
  public static final String PROJECT_ID = "homing-test";
  public static final String CLIENT_EMAIL = "notifier@homing-test.iam.gserviceaccount.com";
  public static final String SCOPE = "https://www.googleapis.com/auth/firebase.messaging";

  private static final String KEY_ID = "fake-fcm-key-1";
  private static final String GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer";
  private static final long ACCESS_TOKEN_SECONDS = 3599;
  private static final String SEND_PATH = "/v1/projects/" + PROJECT_ID + "/messages:send";

  /**
   * An error answer, in FCM's shape.
   *
   * @param status the HTTP status
   * @param errorStatus the error's status (NOT_FOUND, UNAVAILABLE, …)
   * @param errorCode the FcmError detail's errorCode, or null for no such detail
   * @param message the error's message
   * @param field a BadRequest field violation's field, or null for none
   * @param retryAfter the Retry-After header, or null for none
   */
  public record Reply(
      int status,
      String errorStatus,
      String errorCode,
      String message,
      String field,
      Duration retryAfter) {

    /** 404 NOT_FOUND, UNREGISTERED: the app was uninstalled or the token expired. */
    public static Reply unregistered() {
      return new Reply(404, "NOT_FOUND", "UNREGISTERED", "Requested entity was not found.",
          null, null);
    }

    /** 403 PERMISSION_DENIED, SENDER_ID_MISMATCH: the token belongs to another project. */
    public static Reply senderIdMismatch() {
      return new Reply(403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH",
          "SenderId mismatch", null, null);
    }

    /** 429 RESOURCE_EXHAUSTED, QUOTA_EXCEEDED, with a Retry-After. */
    public static Reply quotaExceeded(Duration retryAfter) {
      return new Reply(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED",
          "Quota exceeded for quota metric 'Send requests'.", null, retryAfter);
    }

    /** 503 UNAVAILABLE: FCM is overloaded. */
    public static Reply unavailable() {
      return new Reply(503, "UNAVAILABLE", "UNAVAILABLE", "The service is currently unavailable.",
          null, null);
    }

    /** 400 INVALID_ARGUMENT, with a field violation on {@code field} (e.g. message.token). */
    public static Reply invalidArgument(String field) {
      return new Reply(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT",
          "Request contains an invalid argument.", field, null);
    }

    /** 401 UNAUTHENTICATED: the access token is refused. */
    public static Reply unauthenticated() {
      return new Reply(401, "UNAUTHENTICATED", null,
          "Request had invalid authentication credentials.", null, null);
    }
  }

  private record Script(Reply reply, AtomicInteger left) {}

  private final ObjectMapper json = new ObjectMapper();
  private final KeyPair key;
  private final HttpServer server;
  private final ExecutorService executor;
  private final Path serviceAccount;
  private final Set<String> accessTokens = ConcurrentHashMap.newKeySet();
  private final AtomicInteger tokenRequests = new AtomicInteger();
  private final Map<String, Script> scripts = new ConcurrentHashMap<>();
  private final List<JsonNode> messages = new CopyOnWriteArrayList<>();

  private FakeFcm() throws IOException, GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(2048);
    key = generator.generateKeyPair();
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    executor = Executors.newCachedThreadPool(task -> {
      Thread thread = new Thread(task, "fake-fcm");
      thread.setDaemon(true);
      return thread;
    });
    server.setExecutor(executor);
    server.createContext("/token", exchange -> answer(exchange, this::token));
    server.createContext("/v1/projects/", exchange -> answer(exchange, this::send));
    server.start();
    serviceAccount = Files.createTempFile("homing-fcm-", ".json");
    ObjectNode file = json.createObjectNode()
        .put("type", "service_account")
        .put("project_id", PROJECT_ID)
        .put("private_key_id", KEY_ID)
        .put("private_key", Pem.of("PRIVATE KEY", key.getPrivate().getEncoded()))
        .put("client_email", CLIENT_EMAIL)
        .put("token_uri", tokenUri().toString());
    json.writerWithDefaultPrettyPrinter().writeValue(serviceAccount.toFile(), file);
  }

  /** Starts on a free loopback port, with a fresh service account. */
  public static FakeFcm start() {
    try {
      return new FakeFcm();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** FCM's base URL here: {@code http://127.0.0.1:<port>}. */
  public URI baseUrl() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  /** The token endpoint, as the service account file names it. */
  public URI tokenUri() {
    return baseUrl().resolve("/token");
  }

  /** A service-account JSON key file whose key this server trusts. */
  public Path serviceAccountFile() {
    return serviceAccount;
  }

  /** Answers {@code reply} to every message for {@code registrationToken}. */
  public void reply(String registrationToken, Reply reply) {
    reply(registrationToken, reply, Integer.MAX_VALUE);
  }

  /** Answers {@code reply} to the next {@code times} messages for it, then 200 again. */
  public void reply(String registrationToken, Reply reply, int times) {
    scripts.put(registrationToken, new Script(reply, new AtomicInteger(times)));
  }

  /** Refuses every access token handed out so far, as if they had expired. */
  public void revokeAccessTokens() {
    accessTokens.clear();
  }

  /** How many access tokens were asked for, good requests or not. */
  public int tokenRequests() {
    return tokenRequests.get();
  }

  /** The {@code message} object of every authenticated send, in order, whatever the answer. */
  public List<JsonNode> messages() {
    return List.copyOf(messages);
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
    try {
      Files.deleteIfExists(serviceAccount);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private interface Handler {
    void handle(HttpExchange exchange, byte[] body) throws IOException;
  }

  private static void answer(HttpExchange exchange, Handler handler) throws IOException {
    try (exchange) {
      byte[] body = exchange.getRequestBody().readAllBytes();
      if (!exchange.getRequestMethod().equals("POST")) {
        exchange.sendResponseHeaders(405, -1);
        return;
      }
      handler.handle(exchange, body);
    }
  }

  private void token(HttpExchange exchange, byte[] body) throws IOException {
    tokenRequests.incrementAndGet();
    Map<String, String> form = form(new String(body, StandardCharsets.UTF_8));
    String problem = grantProblem(form);
    if (problem != null) {
      respond(exchange, 400, json.createObjectNode()
          .put("error", "invalid_grant").put("error_description", problem));
      return;
    }
    String accessToken = "ya29.fake-" + tokenRequests.get();
    accessTokens.add(accessToken);
    respond(exchange, 200, json.createObjectNode()
        .put("access_token", accessToken)
        .put("expires_in", ACCESS_TOKEN_SECONDS)
        .put("token_type", "Bearer"));
  }

  /** What is wrong with a JWT grant, or null when it is good. */
  private String grantProblem(Map<String, String> form) {
    if (!GRANT_TYPE.equals(form.get("grant_type"))) {
      return "grant_type " + form.get("grant_type");
    }
    JsonNode claims;
    try {
      claims = Jwts.verify(form.getOrDefault("assertion", ""), "RS256", KEY_ID, key.getPublic(),
          "SHA256withRSA");
    } catch (IllegalArgumentException e) {
      return "assertion: " + e.getMessage();
    }
    JsonNode aud = claims.path("aud");
    String audience = aud.isArray() && aud.size() == 1 ? aud.get(0).asText() : aud.asText();
    long iat = claims.path("iat").asLong(-1);
    long exp = claims.path("exp").asLong(-1);
    if (!claims.path("iss").asText().equals(CLIENT_EMAIL)) {
      return "iss " + claims.path("iss");
    }
    if (!audience.equals(tokenUri().toString())) {
      return "aud " + aud;
    }
    if (!claims.path("scope").asText().equals(SCOPE)) {
      return "scope " + claims.path("scope");
    }
    if (iat < 0 || exp <= iat || exp - iat > 3600) {
      return "iat " + iat + ", exp " + exp + " (expected: 0 < exp - iat <= 3600)";
    }
    return null;
  }

  private void send(HttpExchange exchange, byte[] body) throws IOException {
    if (!exchange.getRequestURI().getPath().equals(SEND_PATH)) {
      fail(exchange, new Reply(404, "NOT_FOUND", null, "Not found: "
          + exchange.getRequestURI().getPath(), null, null));
      return;
    }
    String authorization = exchange.getRequestHeaders().getFirst("authorization");
    if (authorization == null || !authorization.startsWith("Bearer ")
        || !accessTokens.contains(authorization.substring(7))) {
      fail(exchange, Reply.unauthenticated());
      return;
    }
    JsonNode message = json.readTree(body).path("message");
    messages.add(message);
    String token = message.path("token").asText("");
    if (token.isEmpty()) {
      fail(exchange, Reply.invalidArgument("message.token"));
      return;
    }
    for (JsonNode value : message.path("data")) {
      if (!value.isTextual()) {
        fail(exchange, Reply.invalidArgument("message.data"));
        return;
      }
    }
    Script script = scripts.get(token);
    if (script != null && script.left().getAndDecrement() > 0) {
      fail(exchange, script.reply());
      return;
    }
    respond(exchange, 200, json.createObjectNode()
        .put("name", "projects/" + PROJECT_ID + "/messages/" + messages.size()));
  }

  /** Answers {@code reply}: its status, Retry-After and an error body in FCM's shape. */
  private void fail(HttpExchange exchange, Reply reply) throws IOException {
    ObjectNode body = json.createObjectNode();
    ObjectNode error = body.putObject("error")
        .put("code", reply.status())
        .put("message", reply.message())
        .put("status", reply.errorStatus());
    ArrayNode details = error.putArray("details");
    if (reply.errorCode() != null) {
      details.addObject()
          .put("@type", "type.googleapis.com/google.firebase.fcm.v1.FcmError")
          .put("errorCode", reply.errorCode());
    }
    if (reply.field() != null) {
      details.addObject()
          .put("@type", "type.googleapis.com/google.rpc.BadRequest")
          .putArray("fieldViolations").addObject()
          .put("field", reply.field())
          .put("description", "Invalid value");
    }
    if (details.isEmpty()) {
      error.remove("details");
    }
    if (reply.retryAfter() != null) {
      exchange.getResponseHeaders()
          .set("retry-after", Long.toString(reply.retryAfter().toSeconds()));
    }
    respond(exchange, reply.status(), body);
  }

  private void respond(HttpExchange exchange, int status, JsonNode body) throws IOException {
    byte[] bytes = json.writeValueAsBytes(body);
    exchange.getResponseHeaders().set("content-type", "application/json; charset=UTF-8");
    exchange.sendResponseHeaders(status, bytes.length);
    exchange.getResponseBody().write(bytes);
  }

  private static Map<String, String> form(String body) {
    Map<String, String> form = new HashMap<>();
    for (String pair : body.split("&")) {
      int equals = pair.indexOf('=');
      if (equals > 0) {
        form.put(URLDecoder.decode(pair.substring(0, equals), StandardCharsets.UTF_8),
            URLDecoder.decode(pair.substring(equals + 1), StandardCharsets.UTF_8));
      }
    }
    return form;
  }
}
