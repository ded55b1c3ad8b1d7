package io.homing.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.util.JsonFormat;
import io.homing.api.v1.AuthError;
import io.homing.api.v1.Error;
import io.homing.api.v1.ServerFrame;
import io.homing.client.HomingConnection;
import io.homing.core.DeliveryPolicy;
import io.homing.edge.EdgeConfig;
import io.homing.edge.EdgeServer;
import io.homing.edge.auth.TokenSettings;
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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The HTTP fallback on the WebSocket port against the real stack: Server-Sent Events with acks
 * over POST, long-polling, refusals and CORS, read with java.net.http as a proxy-bound client
 * would.
 */
class HttpFallbackIT {
  /** Resends after 2 s, so the redelivery test is short and the others ack well before. */
  private static final DeliveryPolicy POLICY =
      new DeliveryPolicy(Duration.ofSeconds(2), 5, 1000, Duration.ofMinutes(10));

  @RegisterExtension
  final TestCluster cluster = TestCluster.perTest(1, TestCluster.Options.defaults().with(POLICY));

  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @Test
  void anEventStreamStartsWithAuthOkAndCarriesPushesWithTheirSeqAsId() throws Exception {
    try (Sse sse = sse("/sse", "ada", "phone", true, null)) {
      assertThat(sse.response.statusCode()).isEqualTo(200);
      assertThat(sse.response.headers().firstValue("content-type")).hasValue("text/event-stream");
      assertThat(sse.response.headers().firstValue("cache-control")).hasValue("no-cache");
      assertThat(sse.response.headers().firstValue("connection")).hasValue("close");
      assertThat(sse.next().frame().getAuthOk().getUserId()).isEqualTo("ada");

      cluster.sendText("online", "ada");

      Event push = sse.next();
      assertThat(push.id()).isEqualTo("1");
      assertThat(push.frame().getPush().getSeq()).isEqualTo(1);
      assertThat(push.frame().getPush().getMessage().getPayload().toStringUtf8())
          .isEqualTo("online");
    }
  }

  @Test
  void theOfflineBacklogArrivesAndLastEventIdResumesAfterItsSeq() throws Exception {
    for (int i = 1; i <= 3; i++) {
      cluster.sendText("offline " + i, "bea");
    }
    try (Sse sse = sse("/sse?last_seq=0", "bea", "phone", false, null)) {
      assertThat(sse.next().frame().hasAuthOk()).isTrue();
      assertThat(sse.pushSeqs(3)).containsExactly(1L, 2L, 3L);
    }
    // What EventSource sends on its own reconnect wins over the URL's last_seq.
    try (Sse sse = sse("/sse?last_seq=0", "bea", "phone", false, "2")) {
      assertThat(sse.next().frame().getAuthOk().getResumeAfter()).isEqualTo(2);
      assertThat(sse.pushSeqs(1)).containsExactly(3L);
    }
  }

  @Test
  void anAckPostedForTheStreamIsNotDeliveredAgainOnReconnect() throws Exception {
    cluster.sendText("one", "cleo");
    cluster.sendText("two", "cleo");
    try (Sse sse = sse("/sse", "cleo", "phone", true, null)) {
      assertThat(sse.next().frame().hasAuthOk()).isTrue();
      assertThat(sse.pushSeqs(2)).containsExactly(1L, 2L);
      HttpResponse<String> ack = postAck(cluster.token("cleo", "phone"), "{\"seq\":\"2\"}");
      assertThat(ack.statusCode()).isEqualTo(204);
      Thread.sleep(200); // the edge publishes a connection's acks every 10 ms
    }
    try (Sse sse = sse("/sse?last_seq=0", "cleo", "phone", true, null)) {
      assertThat(sse.next().frame().getAuthOk().getResumeAfter()).isEqualTo(2);
      cluster.sendText("three", "cleo");
      assertThat(sse.pushSeqs(1)).containsExactly(3L);
    }
  }

  @Test
  void aPushLeftUnackedIsSentAgainOnTheStream() throws Exception {
    try (Sse sse = sse("/sse", "dora", "phone", true, null)) {
      assertThat(sse.next().frame().hasAuthOk()).isTrue();
      cluster.sendText("ack me", "dora");
      assertThat(sse.pushSeqs(1)).containsExactly(1L);
      assertThat(sse.pushSeqs(1)).as("resent after the ack timeout").containsExactly(1L);
    }
  }

  @Test
  void aBadTokenIsRefusedAndMalformedOrOrphanedAcksAreAnswered() throws Exception {
    HttpResponse<String> ack = postAck("not-a-jwt", "{\"seq\":\"1\"}");
    assertThat(ack.statusCode()).isEqualTo(401);
    assertThat(parse(ack.body()).getAuthError().getCode()).isEqualTo(AuthError.Code.INVALID_TOKEN);

    HttpResponse<String> poll = get("/poll?timeout_ms=0&token=not-a-jwt", null);
    assertThat(poll.statusCode()).isEqualTo(401);
    assertThat(parse(poll.body()).hasAuthError()).isTrue();

    try (Sse sse = open("/sse?token=not-a-jwt", null, null)) {
      assertThat(sse.next().frame().getAuthError().getCode())
          .isEqualTo(AuthError.Code.INVALID_TOKEN);
      assertThat(sse.ended().get(5, TimeUnit.SECONDS)).isTrue();
    }

    String token = cluster.token("edna", "phone");
    assertThat(postAck(token, "{\"seq\":").statusCode()).isEqualTo(400);
    assertThat(postAck(token, "{\"seq\":\"0\"}").statusCode()).isEqualTo(400);
    HttpResponse<String> orphan = postAck(token, "{\"seq\":\"1\"}");
    assertThat(orphan.statusCode()).as("no session here").isEqualTo(404);
    assertThat(parse(orphan.body()).hasError()).isTrue();
    assertThat(get("/elsewhere", null).statusCode()).isEqualTo(404);
  }

  @Test
  void anEventStreamReplacesTheDevicesWebSocketAndIsReplacedInTurn() throws Exception {
    HomingConnection socket = cluster.connected(0, "fay", "phone", new Inbox());
    try (Sse first = sse("/sse", "fay", "phone", true, null)) {
      assertThat(first.next().frame().hasAuthOk()).isTrue();
      assertThat(socket.closed().get(10, TimeUnit.SECONDS)).startsWith("REPLACED");
      cluster.sendText("to the stream", "fay");
      assertThat(first.pushSeqs(1)).containsExactly(1L);

      try (Sse second = sse("/sse?last_seq=1", "fay", "phone", true, null)) {
        assertThat(second.next().frame().hasAuthOk()).isTrue();
        assertThat(first.next().frame().getError().getCode()).isEqualTo(Error.Code.REPLACED);
        assertThat(first.ended().get(5, TimeUnit.SECONDS)).isTrue();
      }
    }
  }

  @Test
  void longPollsGetAuthOkThenWhatFollowsTheirAfterAndRepeatedPollsGetItAgain() throws Exception {
    String token = cluster.token("gia", "phone");
    List<ServerFrame> first = poll(token, "after=0&timeout_ms=10000");
    assertThat(first).isNotEmpty();
    assertThat(first.get(0).getAuthOk().getDeviceId()).isEqualTo("phone");

    cluster.sendText("one", "gia");
    cluster.sendText("two", "gia");
    assertThat(pushSeqs(token, 0, 2)).containsExactly(1L, 2L);
    assertThat(pushSeqs(token, 0, 2)).as("a repeated after").containsExactly(1L, 2L);

    CompletableFuture<List<ServerFrame>> waiting =
        CompletableFuture.supplyAsync(() -> pollUnchecked(token, "after=2&timeout_ms=20000"));
    Thread.sleep(300);
    assertThat(waiting).isNotDone();
    cluster.sendText("three", "gia");
    assertThat(waiting.get(10, TimeUnit.SECONDS)).extracting(f -> f.getPush().getSeq())
        .containsExactly(3L);

    long start = System.nanoTime();
    assertThat(poll(token, "after=3&timeout_ms=500")).isEmpty();
    assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(Duration.ofMillis(450).toNanos());
  }

  @Test
  void aPollsAfterAcknowledgesSoTheNextConnectionResumesBehindIt() throws Exception {
    String token = cluster.token("hana", "phone");
    poll(token, "after=0&timeout_ms=10000");
    cluster.sendText("one", "hana");
    cluster.sendText("two", "hana");
    assertThat(pushSeqs(token, 0, 2)).containsExactly(1L, 2L);
    assertThat(poll(token, "after=2&timeout_ms=0")).isEmpty();
    Thread.sleep(200); // the edge publishes a connection's acks every 10 ms

    Inbox inbox = new Inbox();
    HomingConnection socket = cluster.connected(0, "hana", "phone", inbox);
    assertThat(socket.authenticated().get().getResumeAfter()).isEqualTo(2);
    assertThat(poll(token, "after=2&timeout_ms=0")).extracting(f -> f.getError().getCode())
        .containsExactly(Error.Code.REPLACED);
    cluster.sendText("three", "hana");
    assertThat(inbox.take(1)).extracting(Inbox.Received::seq).containsExactly(3L);
  }

  @Test
  void aNewerPollAnswersTheWaitingOneWithNothing() throws Exception {
    String token = cluster.token("ida", "phone");
    poll(token, "after=0&timeout_ms=10000");
    CompletableFuture<List<ServerFrame>> waiting =
        CompletableFuture.supplyAsync(() -> pollUnchecked(token, "after=0&timeout_ms=30000"));
    Thread.sleep(300);
    CompletableFuture<List<ServerFrame>> newer =
        CompletableFuture.supplyAsync(() -> pollUnchecked(token, "after=0&timeout_ms=30000"));

    assertThat(waiting.get(5, TimeUnit.SECONDS)).isEmpty();
    cluster.sendText("to the newer poll", "ida");
    assertThat(newer.get(10, TimeUnit.SECONDS)).extracting(f -> f.getPush().getSeq())
        .containsExactly(1L);
  }

  @Test
  void corsHeadersGoToConfiguredOriginsOnly() throws Exception {
    try (EdgeServer edge = new EdgeServer(corsEdge(List.of("https://app.example"))).start()) {
      String base = "http://127.0.0.1:" + edge.clientAddress().getPort();
      HttpResponse<String> preflight = http.send(HttpRequest.newBuilder(URI.create(base + "/ack"))
              .method("OPTIONS", HttpRequest.BodyPublishers.noBody())
              .header("Origin", "https://app.example")
              .header("Access-Control-Request-Method", "POST")
              .header("Access-Control-Request-Headers", "authorization, content-type").build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(preflight.statusCode()).isEqualTo(204);
      assertThat(preflight.headers().firstValue("access-control-allow-origin"))
          .hasValue("https://app.example");
      assertThat(preflight.headers().firstValue("access-control-allow-headers"))
          .hasValue("Authorization, Content-Type, Last-Event-ID");

      HttpResponse<String> refused = http.send(HttpRequest.newBuilder(
              URI.create(base + "/poll?timeout_ms=0&token=bad"))
              .header("Origin", "https://app.example").build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(refused.statusCode()).isEqualTo(401);
      assertThat(refused.headers().firstValue("access-control-allow-origin"))
          .hasValue("https://app.example");

      HttpResponse<String> stranger = http.send(HttpRequest.newBuilder(
              URI.create(base + "/poll?timeout_ms=0&token=bad"))
              .header("Origin", "https://evil.example").build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(stranger.headers().firstValue("access-control-allow-origin")).isEmpty();
    }
    HttpResponse<String> unconfigured = get("/poll?timeout_ms=0&token=bad", "https://app.example");
    assertThat(unconfigured.headers().firstValue("access-control-allow-origin")).isEmpty();
  }

  private EdgeConfig corsEdge(List<String> origins) {
    int grpcPort = Ports.free();
    InetSocketAddress any = new InetSocketAddress("127.0.0.1", 0);
    return new EdgeConfig("edge-cors", any, any, new InetSocketAddress("127.0.0.1", grpcPort), any,
        "127.0.0.1:" + grpcPort, cluster.redis.uri(), cluster.kafka.bootstrapServers(),
        cluster.topics, TokenSettings.hs256(TestCluster.SECRET), Duration.ofSeconds(2),
        Duration.ofSeconds(30), Duration.ofSeconds(90), 64 * 1024, Duration.ofSeconds(5), cluster.name + ":", null,
        origins);
  }

  private String base() {
    return "http://127.0.0.1:" + cluster.wsUri(0).getPort();
  }

  private Sse sse(String pathAndQuery, String user, String device, boolean header,
      String lastEventId) throws Exception {
    String token = cluster.token(user, device);
    if (header) {
      return open(pathAndQuery, "Bearer " + token, lastEventId);
    }
    String separator = pathAndQuery.contains("?") ? "&" : "?";
    return open(pathAndQuery + separator + "token=" + token, null, lastEventId);
  }

  private Sse open(String pathAndQuery, String authorization, String lastEventId)
      throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base() + pathAndQuery))
        .header("Accept", "text/event-stream");
    if (authorization != null) {
      request.header("Authorization", authorization);
    }
    if (lastEventId != null) {
      request.header("Last-Event-ID", lastEventId);
    }
    return new Sse(http.send(request.build(), HttpResponse.BodyHandlers.ofLines()));
  }

  private HttpResponse<String> postAck(String token, String body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(base() + "/ack"))
            .header("Authorization", "Bearer " + token)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> get(String pathAndQuery, String origin) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base() + pathAndQuery));
    if (origin != null) {
      request.header("Origin", origin);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static final Pattern FRAME = Pattern.compile("^\\{\"frames\":\\[(.*)]}$");

  private List<ServerFrame> poll(String token, String query) throws Exception {
    HttpResponse<String> response = http.send(
        HttpRequest.newBuilder(URI.create(base() + "/poll?" + query))
            .header("Authorization", "Bearer " + token).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    Matcher m = FRAME.matcher(response.body());
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

  private List<ServerFrame> pollUnchecked(String token, String query) {
    try {
      return poll(token, query);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Polls after {@code after} until {@code count} pushes came; their seqs. */
  private List<Long> pushSeqs(String token, long after, int count) throws Exception {
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

  private static ServerFrame parse(String json) throws Exception {
    ServerFrame.Builder frame = ServerFrame.newBuilder();
    JsonFormat.parser().merge(json, frame);
    return frame.build();
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
