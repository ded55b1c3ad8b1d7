package io.homing.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.util.JsonFormat;
import io.homing.api.v1.AuthError;
import io.homing.api.v1.Error;
import io.homing.api.v1.ServerFrame;
import io.homing.client.HomingConnection;
import io.homing.core.DeliveryPolicy;
import io.homing.edge.EdgeConfig;
import io.homing.edge.EdgeServer;
import io.homing.edge.session.EdgeLimits;
import io.homing.edge.transport.TlsFiles;
import io.homing.runtime.auth.TokenSettings;
import io.homing.testing.DevCertificates;
import io.homing.testing.Ports;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The HTTP fallback on the WebSocket port against the real stack: Server-Sent Events with acks
 * over POST, long-polling, refusals and CORS, read with java.net.http as a proxy-bound client
 * would — every test over plain HTTP and over HTTPS (the client trusting the cluster's
 * development CA). One cluster per mode serves every test; each test has users of its own.
 */
class HttpFallbackIT {
  /** Resends after 2 s, so the redelivery test is short and the others ack well before. */
  private static final DeliveryPolicy POLICY =
      new DeliveryPolicy(Duration.ofSeconds(2), 5, 1000, Duration.ofMinutes(10));

  @RegisterExtension static final TestCluster plain =
      TestCluster.perClass(1, TestCluster.Options.defaults().with(POLICY));
  @RegisterExtension static final TestCluster secure =
      TestCluster.perClass(1, TestCluster.Options.defaults().with(POLICY).withSecurity());

  private static final HttpClient plainHttp = httpClient(null);
  private static final HttpClient secureHttp = httpClient(secure.certificates().clientContext());
  private static final AtomicInteger users = new AtomicInteger();

  /** Plain HTTP or HTTPS; names the test. */
  record Mode(boolean tls) {
    TestCluster cluster() {
      return tls ? secure : plain;
    }

    /** A client of the cluster's edge. */
    Fallback edge() {
      return edge(cluster().wsUri(0).getPort());
    }

    /** A client of the edge on {@code port}: https:// trusting the cluster's CA with TLS. */
    Fallback edge(int port) {
      return new Fallback(cluster(), tls ? secureHttp : plainHttp,
          (tls ? "https" : "http") + "://127.0.0.1:" + port);
    }

    @Override
    public String toString() {
      return tls ? "https" : "http";
    }
  }

  static Stream<Mode> modes() {
    return Stream.of(new Mode(false), new Mode(true));
  }

  /** A user id no other test uses. */
  private static String user(String name) {
    return name + "-" + users.incrementAndGet();
  }

  /** HTTP/1.1, as the fallback speaks it; TLS trusting what {@code tls} trusts, if given. */
  private static HttpClient httpClient(SSLContext tls) {
    HttpClient.Builder builder = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1);
    return (tls == null ? builder : builder.sslContext(tls)).build();
  }

  @ParameterizedTest(name = "over {0}")
  @MethodSource("modes")
  void anEventStreamStartsWithAuthOkAndCarriesPushesWithTheirSeqAsId(Mode mode) throws Exception {
    String user = user("ada");
    try (Sse sse = mode.edge().sse("/sse", user, "phone", true, null)) {
      assertThat(sse.response.statusCode()).isEqualTo(200);
      assertThat(sse.response.headers().firstValue("content-type")).hasValue("text/event-stream");
      assertThat(sse.response.headers().firstValue("cache-control")).hasValue("no-cache");
      assertThat(sse.response.headers().firstValue("connection")).hasValue("close");
      assertThat(sse.next().frame().getAuthOk().getUserId()).isEqualTo(user);

      mode.cluster().sendText("online", user);

      Event push = sse.next();
      assertThat(push.id()).isEqualTo("1");
      assertThat(push.frame().getPush().getSeq()).isEqualTo(1);
      assertThat(push.frame().getPush().getMessage().getPayload().toStringUtf8())
          .isEqualTo("online");
    }
  }

  @ParameterizedTest(name = "over {0}")
  @MethodSource("modes")
  void theOfflineBacklogArrivesAndLastEventIdResumesAfterItsSeq(Mode mode) throws Exception {
    String user = user("bea");
    for (int i = 1; i <= 3; i++) {
      mode.cluster().sendText("offline " + i, user);
    }
    Fallback edge = mode.edge();
    try (Sse sse = edge.sse("/sse?last_seq=0", user, "phone", false, null)) {
      assertThat(sse.next().frame().hasAuthOk()).isTrue();
      assertThat(sse.pushSeqs(3)).containsExactly(1L, 2L, 3L);
    }
    // What EventSource sends on its own reconnect wins over the URL's last_seq.
    try (Sse sse = edge.sse("/sse?last_seq=0", user, "phone", false, "2")) {
      assertThat(sse.next().frame().getAuthOk().getResumeAfter()).isEqualTo(2);
      assertThat(sse.pushSeqs(1)).containsExactly(3L);
    }
  }

  @ParameterizedTest(name = "over {0}")
  @MethodSource("modes")
  void anAckPostedForTheStreamIsNotDeliveredAgainOnReconnect(Mode mode) throws Exception {
    String user = user("cleo");
    mode.cluster().sendText("one", user);
    mode.cluster().sendText("two", user);
    Fallback edge = mode.edge();
    try (Sse sse = edge.sse("/sse", user, "phone", true, null)) {
      assertThat(sse.next().frame().hasAuthOk()).isTrue();
      assertThat(sse.pushSeqs(2)).containsExactly(1L, 2L);
      HttpResponse<String> ack =
          edge.postAck(mode.cluster().token(user, "phone"), "{\"seq\":\"2\"}");
      assertThat(ack.statusCode()).isEqualTo(204);
      Thread.sleep(200); // the edge publishes a connection's acks every 10 ms
    }
    try (Sse sse = edge.sse("/sse?last_seq=0", user, "phone", true, null)) {
      assertThat(sse.next().frame().getAuthOk().getResumeAfter()).isEqualTo(2);
      mode.cluster().sendText("three", user);
      assertThat(sse.pushSeqs(1)).containsExactly(3L);
    }
  }

  @ParameterizedTest(name = "over {0}")
  @MethodSource("modes")
  void aPushLeftUnackedIsSentAgainOnTheStream(Mode mode) throws Exception {
    String user = user("dora");
    try (Sse sse = mode.edge().sse("/sse", user, "phone", true, null)) {
      assertThat(sse.next().frame().hasAuthOk()).isTrue();
      mode.cluster().sendText("ack me", user);
      assertThat(sse.pushSeqs(1)).containsExactly(1L);
      assertThat(sse.pushSeqs(1)).as("resent after the ack timeout").containsExactly(1L);
    }
  }

  @ParameterizedTest(name = "over {0}")
  @MethodSource("modes")
  void aBadTokenIsRefusedAndMalformedOrOrphanedAcksAreAnswered(Mode mode) throws Exception {
    Fallback edge = mode.edge();
    HttpResponse<String> ack = edge.postAck("not-a-jwt", "{\"seq\":\"1\"}");
    assertThat(ack.statusCode()).isEqualTo(401);
    assertThat(parse(ack.body()).getAuthError().getCode()).isEqualTo(AuthError.Code.INVALID_TOKEN);

    HttpResponse<String> poll = edge.get("/poll?timeout_ms=0&token=not-a-jwt", null);
    assertThat(poll.statusCode()).isEqualTo(401);
    assertThat(parse(poll.body()).hasAuthError()).isTrue();

    try (Sse sse = edge.open("/sse?token=not-a-jwt", null, null)) {
      assertThat(sse.next().frame().getAuthError().getCode())
          .isEqualTo(AuthError.Code.INVALID_TOKEN);
      assertThat(sse.ended().get(5, TimeUnit.SECONDS)).isTrue();
    }

    String token = mode.cluster().token(user("edna"), "phone");
    assertThat(edge.postAck(token, "{\"seq\":").statusCode()).isEqualTo(400);
    assertThat(edge.postAck(token, "{\"seq\":\"0\"}").statusCode()).isEqualTo(400);
    HttpResponse<String> orphan = edge.postAck(token, "{\"seq\":\"1\"}");
    assertThat(orphan.statusCode()).as("no session here").isEqualTo(404);
    assertThat(parse(orphan.body()).hasError()).isTrue();
    assertThat(edge.get("/elsewhere", null).statusCode()).isEqualTo(404);
  }

  @ParameterizedTest(name = "over {0}")
  @MethodSource("modes")
  void anEventStreamReplacesTheDevicesWebSocketAndIsReplacedInTurn(Mode mode) throws Exception {
    String user = user("fay");
    HomingConnection socket = mode.cluster().connected(0, user, "phone", new Inbox());
    Fallback edge = mode.edge();
    try (Sse first = edge.sse("/sse", user, "phone", true, null)) {
      assertThat(first.next().frame().hasAuthOk()).isTrue();
      assertThat(socket.closed().get(10, TimeUnit.SECONDS)).startsWith("REPLACED");
      mode.cluster().sendText("to the stream", user);
      assertThat(first.pushSeqs(1)).containsExactly(1L);

      try (Sse second = edge.sse("/sse?last_seq=1", user, "phone", true, null)) {
        assertThat(second.next().frame().hasAuthOk()).isTrue();
        assertThat(first.next().frame().getError().getCode()).isEqualTo(Error.Code.REPLACED);
        assertThat(first.ended().get(5, TimeUnit.SECONDS)).isTrue();
      }
    }
  }

  @ParameterizedTest(name = "over {0}")
  @MethodSource("modes")
  void longPollsGetAuthOkThenWhatFollowsTheirAfterAndRepeatedPollsGetItAgain(Mode mode)
      throws Exception {
    String user = user("gia");
    String token = mode.cluster().token(user, "phone");
    Fallback edge = mode.edge();
    List<ServerFrame> first = edge.poll(token, "after=0&timeout_ms=10000");
    assertThat(first).isNotEmpty();
    assertThat(first.get(0).getAuthOk().getDeviceId()).isEqualTo("phone");

    mode.cluster().sendText("one", user);
    mode.cluster().sendText("two", user);
    assertThat(edge.pushSeqs(token, 0, 2)).containsExactly(1L, 2L);
    assertThat(edge.pushSeqs(token, 0, 2)).as("a repeated after").containsExactly(1L, 2L);

    CompletableFuture<List<ServerFrame>> waiting =
        CompletableFuture.supplyAsync(() -> edge.pollUnchecked(token, "after=2&timeout_ms=20000"));
    Thread.sleep(300);
    assertThat(waiting).isNotDone();
    mode.cluster().sendText("three", user);
    assertThat(waiting.get(10, TimeUnit.SECONDS)).extracting(f -> f.getPush().getSeq())
        .containsExactly(3L);

    long start = System.nanoTime();
    assertThat(edge.poll(token, "after=3&timeout_ms=500")).isEmpty();
    assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(Duration.ofMillis(450).toNanos());
  }

  @ParameterizedTest(name = "over {0}")
  @MethodSource("modes")
  void aPollsAfterAcknowledgesSoTheNextConnectionResumesBehindIt(Mode mode) throws Exception {
    String user = user("hana");
    String token = mode.cluster().token(user, "phone");
    Fallback edge = mode.edge();
    edge.poll(token, "after=0&timeout_ms=10000");
    mode.cluster().sendText("one", user);
    mode.cluster().sendText("two", user);
    assertThat(edge.pushSeqs(token, 0, 2)).containsExactly(1L, 2L);
    assertThat(edge.poll(token, "after=2&timeout_ms=0")).isEmpty();
    Thread.sleep(200); // the edge publishes a connection's acks every 10 ms

    Inbox inbox = new Inbox();
    HomingConnection socket = mode.cluster().connected(0, user, "phone", inbox);
    assertThat(socket.authenticated().get().getResumeAfter()).isEqualTo(2);
    assertThat(edge.poll(token, "after=2&timeout_ms=0")).extracting(f -> f.getError().getCode())
        .containsExactly(Error.Code.REPLACED);
    mode.cluster().sendText("three", user);
    assertThat(inbox.take(1)).extracting(Inbox.Received::seq).containsExactly(3L);
  }

  @ParameterizedTest(name = "over {0}")
  @MethodSource("modes")
  void aNewerPollAnswersTheWaitingOneWithNothing(Mode mode) throws Exception {
    String user = user("ida");
    String token = mode.cluster().token(user, "phone");
    Fallback edge = mode.edge();
    edge.poll(token, "after=0&timeout_ms=10000");
    CompletableFuture<List<ServerFrame>> waiting =
        CompletableFuture.supplyAsync(() -> edge.pollUnchecked(token, "after=0&timeout_ms=30000"));
    Thread.sleep(300);
    CompletableFuture<List<ServerFrame>> newer =
        CompletableFuture.supplyAsync(() -> edge.pollUnchecked(token, "after=0&timeout_ms=30000"));

    assertThat(waiting.get(5, TimeUnit.SECONDS)).isEmpty();
    mode.cluster().sendText("to the newer poll", user);
    assertThat(newer.get(10, TimeUnit.SECONDS)).extracting(f -> f.getPush().getSeq())
        .containsExactly(1L);
  }

  @ParameterizedTest(name = "over {0}")
  @MethodSource("modes")
  void corsHeadersGoToConfiguredOriginsOnly(Mode mode) throws Exception {
    try (EdgeServer cors = new EdgeServer(corsEdge(mode, List.of("https://app.example"))).start()) {
      Fallback edge = mode.edge(cors.clientAddress().getPort());
      HttpResponse<String> preflight = edge.send(edge.request("/ack")
          .method("OPTIONS", HttpRequest.BodyPublishers.noBody())
          .header("Origin", "https://app.example")
          .header("Access-Control-Request-Method", "POST")
          .header("Access-Control-Request-Headers", "authorization, content-type"));
      assertThat(preflight.statusCode()).isEqualTo(204);
      assertThat(preflight.headers().firstValue("access-control-allow-origin"))
          .hasValue("https://app.example");
      assertThat(preflight.headers().firstValue("access-control-allow-headers"))
          .hasValue("Authorization, Content-Type, Last-Event-ID");

      HttpResponse<String> refused = edge.get("/poll?timeout_ms=0&token=bad", "https://app.example");
      assertThat(refused.statusCode()).isEqualTo(401);
      assertThat(refused.headers().firstValue("access-control-allow-origin"))
          .hasValue("https://app.example");

      HttpResponse<String> stranger =
          edge.get("/poll?timeout_ms=0&token=bad", "https://evil.example");
      assertThat(stranger.statusCode()).isEqualTo(401);
      assertThat(stranger.headers().firstValue("access-control-allow-origin")).isEmpty();
    }
    HttpResponse<String> unconfigured =
        mode.edge().get("/poll?timeout_ms=0&token=bad", "https://app.example");
    assertThat(unconfigured.statusCode()).isEqualTo(401);
    assertThat(unconfigured.headers().firstValue("access-control-allow-origin")).isEmpty();
  }

  @Test
  void anHttpsClientThatDoesNotTrustTheCertificateIsRefusedAndGetsNothing() throws Exception {
    String user = user("untrusting");
    secure.sendText("not for an untrusting client", user);
    String token = secure.token(user, "phone");
    // The JDK's default trust store, which lacks the cluster's CA.
    Fallback untrusting = new Fallback(secure, httpClient(SSLContext.getDefault()),
        "https://127.0.0.1:" + secure.wsUri(0).getPort());

    assertThatThrownBy(() -> untrusting.sse("/sse", user, "phone", true, null))
        .isInstanceOf(SSLHandshakeException.class);
    assertThatThrownBy(() -> untrusting.postAck(token, "{\"seq\":\"1\"}"))
        .isInstanceOf(SSLHandshakeException.class);
    assertThat(secure.holds(0, user, "phone")).as("no session from the refused client").isFalse();

    // The same URL, the CA trusted: the message waited, still unacked, and comes as seq 1.
    try (Sse sse = new Mode(true).edge().sse("/sse", user, "phone", true, null)) {
      assertThat(sse.next().frame().getAuthOk().getResumeAfter()).isZero();
      Event push = sse.next();
      assertThat(push.frame().getPush().getSeq()).isEqualTo(1);
      assertThat(push.frame().getPush().getMessage().getPayload().toStringUtf8())
          .isEqualTo("not for an untrusting client");
    }
  }

  /** An extra edge of the mode's cluster that allows {@code origins}, with its TLS if any. */
  private static EdgeConfig corsEdge(Mode mode, List<String> origins) {
    TestCluster cluster = mode.cluster();
    DevCertificates certificates = cluster.certificates();
    int grpcPort = Ports.free();
    InetSocketAddress any = new InetSocketAddress("127.0.0.1", 0);
    return new EdgeConfig("edge-cors", any, any, new InetSocketAddress("127.0.0.1", grpcPort), any,
        "127.0.0.1:" + grpcPort, cluster.redisConnection(cluster.edgeIdentity()),
        cluster.kafkaConnection(),
        cluster.topics, TokenSettings.hs256(TestCluster.SECRET), Duration.ofSeconds(2),
        Duration.ofSeconds(30), Duration.ofSeconds(90), 64 * 1024, Duration.ofSeconds(5),
        cluster.name + ":",
        certificates == null ? null
            : new TlsFiles(certificates.serverCertificate(), certificates.serverKey()),
        origins, EdgeLimits.defaults(), List.of(), cluster.internalTls(cluster.edgeIdentity()),
        cluster.metricsTls());
  }

  private static ServerFrame parse(String json) throws Exception {
    ServerFrame.Builder frame = ServerFrame.newBuilder();
    JsonFormat.parser().merge(json, frame);
    return frame.build();
  }

  /** The fallback's paths on one edge, as one mode's client calls them. */
  private static final class Fallback {
    private static final Pattern FRAMES = Pattern.compile("^\\{\"frames\":\\[(.*)]}$");

    private final TestCluster cluster;
    private final HttpClient http;
    private final String base;

    Fallback(TestCluster cluster, HttpClient http, String base) {
      this.cluster = cluster;
      this.http = http;
      this.base = base;
    }

    HttpRequest.Builder request(String pathAndQuery) {
      return HttpRequest.newBuilder(URI.create(base + pathAndQuery));
    }

    HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
      return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** An event stream of the device, its token in the header or else in the query. */
    Sse sse(String pathAndQuery, String user, String device, boolean header, String lastEventId)
        throws Exception {
      String token = cluster.token(user, device);
      if (header) {
        return open(pathAndQuery, "Bearer " + token, lastEventId);
      }
      String separator = pathAndQuery.contains("?") ? "&" : "?";
      return open(pathAndQuery + separator + "token=" + token, null, lastEventId);
    }

    Sse open(String pathAndQuery, String authorization, String lastEventId) throws Exception {
      HttpRequest.Builder request = request(pathAndQuery).header("Accept", "text/event-stream");
      if (authorization != null) {
        request.header("Authorization", authorization);
      }
      if (lastEventId != null) {
        request.header("Last-Event-ID", lastEventId);
      }
      return new Sse(http.send(request.build(), HttpResponse.BodyHandlers.ofLines()));
    }

    HttpResponse<String> postAck(String token, String body) throws Exception {
      return send(request("/ack")
          .header("Authorization", "Bearer " + token)
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    HttpResponse<String> get(String pathAndQuery, String origin) throws Exception {
      HttpRequest.Builder request = request(pathAndQuery);
      if (origin != null) {
        request.header("Origin", origin);
      }
      return send(request);
    }

    /** One long-poll; its frames (the answer must be 200). */
    List<ServerFrame> poll(String token, String query) throws Exception {
      HttpResponse<String> response =
          send(request("/poll?" + query).header("Authorization", "Bearer " + token));
      assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
      Matcher m = FRAMES.matcher(response.body());
      assertThat(m.matches()).as(response.body()).isTrue();
      List<ServerFrame> frames = new ArrayList<>();
      // Frames are objects side by side: split at the "},{" between two top-level objects.
      int depth = 0;
      int start = 0;
      String list = m.group(1);
      for (int i = 0; i < list.length(); i++) {
        char c = list.charAt(i);
        if (c == '{') {
          depth++;
        } else if (c == '}' && --depth == 0) {
          frames.add(parse(list.substring(start, i + 1)));
          start = i + 2;
        }
      }
      return frames;
    }

    List<ServerFrame> pollUnchecked(String token, String query) {
      try {
        return poll(token, query);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }

    /** Polls after {@code after} until {@code count} pushes came; their seqs. */
    List<Long> pushSeqs(String token, long after, int count) throws Exception {
      List<Long> seqs = new ArrayList<>();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
      while (seqs.size() < count && System.nanoTime() < deadline) {
        seqs.clear();
        for (ServerFrame frame : poll(token, "after=" + after + "&timeout_ms=5000")) {
          if (frame.hasPush()) {
            seqs.add(frame.getPush().getSeq());
          }
        }
      }
      return seqs;
    }
  }

  record Event(String id, ServerFrame frame) {}

  /** An event stream read on a thread of its own: events as they come, then its end. */
  private static final class Sse implements AutoCloseable {
    final HttpResponse<Stream<String>> response;
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final CompletableFuture<Boolean> ended = new CompletableFuture<>();

    Sse(HttpResponse<Stream<String>> response) {
      this.response = response;
      Thread reader = new Thread(this::read, "sse-reader");
      reader.setDaemon(true);
      reader.start();
    }

    private void read() {
      String id = null;
      StringBuilder data = new StringBuilder();
      try (Stream<String> lines = response.body()) {
        for (String line : (Iterable<String>) lines::iterator) {
          if (line.isEmpty()) {
            if (data.length() > 0) {
              events.add(new Event(id, parse(data.toString())));
            }
            id = null;
            data.setLength(0);
          } else if (line.startsWith("id: ")) {
            id = line.substring(4);
          } else if (line.startsWith("data: ")) {
            data.append(line.substring(6));
          }
        }
        ended.complete(true);
      } catch (Exception e) {
        ended.complete(false);
      }
    }

    Event next() throws InterruptedException {
      Event event = events.poll(10, TimeUnit.SECONDS);
      assertThat(event).as("an event within 10 s").isNotNull();
      return event;
    }

    /** The seqs of the next {@code count} pushes, skipping other events. */
    List<Long> pushSeqs(int count) throws InterruptedException {
      List<Long> seqs = new ArrayList<>();
      while (seqs.size() < count) {
        ServerFrame frame = next().frame();
        if (frame.hasPush()) {
          seqs.add(frame.getPush().getSeq());
        }
      }
      return seqs;
    }

    /** Completes with true when the answer ended as an HTTP answer should, false if cut off. */
    CompletableFuture<Boolean> ended() {
      return ended;
    }

    @Override
    public void close() {
      response.body().close();
    }
  }
}
