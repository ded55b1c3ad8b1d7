package io.homing.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.homing.api.v1.Auth;
import io.homing.api.v1.ClientFrame;
import io.homing.api.v1.Error;
import io.homing.api.v1.InboundMessage;
import io.homing.api.v1.Ping;
import io.homing.api.v1.Publish;
import io.homing.api.v1.PublishError;
import io.homing.api.v1.SendRequest;
import io.homing.api.v1.ServerFrame;
import io.homing.core.SendLimits;
import io.homing.edge.session.EdgeLimits;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Every limit of EdgeLimits and SendLimits end to end, set low: the client over it gets a clear
 * error and the refusal is counted, and what it refused was never written — while a well-behaved
 * client on the same edge goes on receiving.
 */
class RateLimitIT {
  private static final int FRAMES_PER_SECOND = 20;
  private static final int FRAME_BURST = 40;
  private static final int PUBLISH_BURST = 3;
  private static final int UNAUTHENTICATED = 6;
  private static final int UNAUTHENTICATED_PER_ADDRESS = 3;

  @RegisterExtension
  static final TestCluster cluster = TestCluster.perClass(1, TestCluster.Options.defaults()
      .with(new EdgeLimits(FRAMES_PER_SECOND, FRAME_BURST, 1, PUBLISH_BURST, 2, UNAUTHENTICATED,
          UNAUTHENTICATED_PER_ADDRESS))
      .with(new SendLimits(1, 3, 1, 1000)));

  @Test
  void aConnectionOverItsFrameRateIsClosedAndOthersGoOn() throws Exception {
    Inbox inbox = new Inbox();
    cluster.connected(0, "calm", "d1", inbox);
    try (RawWebSocket flood = new RawWebSocket(cluster.wsUri(0))) {
      flood.authenticate(cluster.token("flooder", "d1"), 0);
      for (int i = 0; i < 5 * FRAME_BURST; i++) {
        flood.sendBinary(ClientFrame.newBuilder().setPing(Ping.newBuilder().setNonce(i)).build()
            .toByteArray());
      }

      int pongs = 0;
      ServerFrame frame;
      while ((frame = flood.next(10)) != null && frame.hasPong()) {
        pongs++;
      }
      assertThat(frame).isNotNull();
      assertThat(frame.getError().getCode()).isEqualTo(Error.Code.RATE_LIMITED);
      assertThat(frame.getError().getMessage())
          .contains("more than " + FRAMES_PER_SECOND + " frames per second");
      // Auth took one place of the burst; the rest refilled while the pings were written.
      assertThat(pongs).isBetween(FRAME_BURST - 1, 2 * FRAME_BURST);
      assertThat(flood.closed.get(10, TimeUnit.SECONDS)).isEqualTo(4009); // 4000 + RATE_LIMITED
    }
    cluster.sendText("still here", "calm");
    assertThat(inbox.take(1).get(0).text()).isEqualTo("still here");
    assertThat(TestCluster.metric(cluster.edgeMetrics(0),
        "homing_edge_rate_limited_total{limit=\"frames\"}")).isGreaterThanOrEqualTo(1);
  }

  @Test
  void publishesOverTheUserRateGetRateLimitedAndAreNotWritten() throws Exception {
    String user = "chatty-" + UUID.randomUUID();
    List<ServerFrame> answers = new ArrayList<>();
    try (RawWebSocket socket = new RawWebSocket(cluster.wsUri(0))) {
      socket.authenticate(cluster.token(user, "d1"), 0);
      int sent = PUBLISH_BURST + 5;
      for (int i = 0; i < sent; i++) {
        socket.sendBinary(ClientFrame.newBuilder().setPublish(Publish.newBuilder()
            .setMessageId("m" + i).setPayload(ByteString.copyFromUtf8("hello " + i))).build()
            .toByteArray());
      }
      for (int i = 0; i < sent; i++) {
        ServerFrame answer = socket.next(10);
        assertThat(answer).as("answer %d", i).isNotNull();
        answers.add(answer);
      }
      List<String> limited = answers.stream().filter(ServerFrame::hasPublishError)
          .peek(a -> assertThat(a.getPublishError().getCode())
              .isEqualTo(PublishError.Code.RATE_LIMITED))
          .map(a -> a.getPublishError().getMessageId()).toList();
      List<String> written = answers.stream().filter(ServerFrame::hasPublishAck)
          .map(a -> a.getPublishAck().getMessageId()).toList();
      // A burst of 3 at 1/s: the writes of the test may refill one place, never five.
      assertThat(written).hasSizeBetween(PUBLISH_BURST, PUBLISH_BURST + 1);
      assertThat(limited).hasSize(sent - written.size());
      assertThat(answers.stream().filter(ServerFrame::hasPublishError).findFirst().orElseThrow()
          .getPublishError().getMessage()).contains("publishes per second");

      // The connection stays open for what the user may still do.
      socket.sendBinary(ClientFrame.newBuilder().setPing(Ping.newBuilder().setNonce(7)).build()
          .toByteArray());
      assertThat(socket.next(10).getPong().getNonce()).isEqualTo(7);

      assertThat(inboundIdsOf(user, written.size())).containsExactlyInAnyOrderElementsOf(written);
    }
    assertThat(TestCluster.metric(cluster.edgeMetrics(0),
        "homing_edge_rate_limited_total{limit=\"publishes\"}")).isGreaterThanOrEqualTo(1);
  }

  @Test
  void aUserGetsTwoConnectionsOnTheEdgeAndTheThirdIsRefused() throws Exception {
    String user = "many-" + UUID.randomUUID();
    try (RawWebSocket first = new RawWebSocket(cluster.wsUri(0));
        RawWebSocket second = new RawWebSocket(cluster.wsUri(0));
        RawWebSocket third = new RawWebSocket(cluster.wsUri(0))) {
      first.authenticate(cluster.token(user, "d1"), 0);
      second.authenticate(cluster.token(user, "d2"), 0);

      third.sendBinary(auth(cluster.token(user, "d3")).toByteArray());
      ServerFrame refused = third.next(10);
      assertThat(refused.getError().getCode()).isEqualTo(Error.Code.RATE_LIMITED);
      assertThat(refused.getError().getMessage()).contains("holds 2 connections");
      assertThat(third.closed.get(10, TimeUnit.SECONDS)).isEqualTo(4009);

      // The refused device took nothing: the two stay, and one of them may connect again.
      assertThat(cluster.holds(0, user, "d1")).isTrue();
      assertThat(cluster.holds(0, user, "d3")).isFalse();
      try (RawWebSocket again = new RawWebSocket(cluster.wsUri(0))) {
        again.authenticate(cluster.token(user, "d2"), 0);
        assertThat(second.next(10).getError().getCode()).isEqualTo(Error.Code.REPLACED);
      }
    }
    assertThat(TestCluster.metric(cluster.edgeMetrics(0),
        "homing_edge_rate_limited_total{limit=\"connections_per_user\"}")).isEqualTo(1);
  }

  @Test
  void connectionsThatHaveNotAuthenticatedAreCappedPerAddressAndPerEdge() throws Exception {
    awaitNoUnauthenticated();
    InetAddress a = InetAddress.getByName("127.0.0.2");
    InetAddress b = InetAddress.getByName("127.0.0.3");
    InetAddress c = InetAddress.getByName("127.0.0.4");
    List<RawTcpSocket> waiting = new ArrayList<>();
    try {
      for (int i = 0; i < UNAUTHENTICATED_PER_ADDRESS; i++) {
        waiting.add(new RawTcpSocket(cluster.tcpUri(0), a));
      }
      awaitUnauthenticated(UNAUTHENTICATED_PER_ADDRESS);
      try (RawTcpSocket overAddress = new RawTcpSocket(cluster.tcpUri(0), a)) {
        ServerFrame refused = overAddress.next(10);
        assertThat(refused.getError().getCode()).isEqualTo(Error.Code.RATE_LIMITED);
        assertThat(refused.getError().getMessage()).contains("from your address");
        overAddress.closed.get(10, TimeUnit.SECONDS);
      }
      for (int i = 0; i < UNAUTHENTICATED - UNAUTHENTICATED_PER_ADDRESS; i++) {
        waiting.add(new RawTcpSocket(cluster.tcpUri(0), b));
      }
      awaitUnauthenticated(UNAUTHENTICATED);
      try (RawTcpSocket overEdge = new RawTcpSocket(cluster.tcpUri(0), c)) {
        ServerFrame refused = overEdge.next(10);
        assertThat(refused.getError().getCode()).isEqualTo(Error.Code.RATE_LIMITED);
        assertThat(refused.getError().getMessage())
            .contains("holds " + UNAUTHENTICATED + " connections that have not authenticated");
      }
      // The WebSocket port says it in HTTP.
      try (Socket raw = new Socket(cluster.wsUri(0).getHost(), cluster.wsUri(0).getPort(), c, 0)) {
        String answer = readAll(raw.getInputStream());
        assertThat(answer).startsWith("HTTP/1.1 429 Too Many Requests\r\n")
            .contains("Retry-After: 1\r\n")
            .contains("connections that have not authenticated yet");
      }

      // A connection that authenticates leaves its place to the next one.
      waiting.get(0).send(auth(cluster.token("authed-" + UUID.randomUUID(), "d1")));
      assertThat(waiting.get(0).next(10).hasAuthOk()).isTrue();
      awaitUnauthenticated(UNAUTHENTICATED - 1);
      try (RawTcpSocket next = new RawTcpSocket(cluster.tcpUri(0), c)) {
        awaitUnauthenticated(UNAUTHENTICATED);
        assertThat(next.next(1)).isNull(); // admitted: waiting for its Auth
      }
    } finally {
      for (RawTcpSocket socket : waiting) {
        socket.close();
      }
    }
    // The ones that never authenticated are closed within the auth timeout (2 s here).
    awaitNoUnauthenticated();
    String metrics = cluster.edgeMetrics(0);
    assertThat(TestCluster.metric(metrics,
        "homing_edge_rate_limited_total{limit=\"unauthenticated_per_address\"}")).isEqualTo(1);
    assertThat(TestCluster.metric(metrics,
        "homing_edge_rate_limited_total{limit=\"unauthenticated\"}")).isEqualTo(2);
  }

  @Test
  void aSenderOverItsRatesGetsResourceExhaustedAndNothingIsSent() throws Exception {
    String prefix = "bulk-" + UUID.randomUUID() + "-";
    // Other tests of the class send to a few users: the bucket of 1,000 has more than 900 left.
    List<String> many = IntStream.range(0, 900).mapToObj(i -> prefix + i).toList();
    List<String> half = new ArrayList<>(many.subList(0, 499));
    half.add(prefix + "late");
    Inbox inbox = new Inbox();
    cluster.connected(0, prefix + "late", "d1", inbox);

    cluster.send().send(text("to nine hundred", many));
    // The recipients' bucket (1,000, refilled at 1/s) has < 500 now; the calls' one (3) more.
    List<String> refusals = new ArrayList<>();
    for (int i = 0; i < 10 && refusals.stream().noneMatch(r -> r.contains("calls")); i++) {
      StatusRuntimeException refused = (StatusRuntimeException) org.assertj.core.api.Assertions
          .catchThrowable(() -> cluster.send().send(text("refused", half)));
      assertThat(refused).isNotNull();
      assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
      refusals.add(refused.getStatus().getDescription());
    }
    assertThat(refusals.get(0)).contains("more than 1 recipients per second")
        .contains("nothing was sent");
    assertThat(refusals.get(refusals.size() - 1)).contains("more than 1 calls per second")
        .contains("retry in");
    assertThatThrownBy(() -> cluster.send().send(text("refused", List.of(prefix + "late"))))
        .isInstanceOf(StatusRuntimeException.class);

    String metrics = cluster.coreMetrics();
    assertThat(TestCluster.metric(metrics, "homing_send_rate_limited_total{limit=\"calls\"}"))
        .isGreaterThanOrEqualTo(1);
    assertThat(TestCluster.metric(metrics,
        "homing_send_rate_limited_total{limit=\"recipients\"}")).isGreaterThanOrEqualTo(1);
    // Once the calls' bucket has refilled, one more call goes through; it is the first and only
    // message the connected recipient gets, so nothing refused reached it.
    Thread.sleep(1_100);
    cluster.send().send(text("allowed", List.of(prefix + "late")));
    assertThat(inbox.take(1).get(0).text()).isEqualTo("allowed");
    Thread.sleep(500);
    assertThat(inbox.pending()).isZero();
  }

  private static SendRequest text(String text, List<String> users) {
    return SendRequest.newBuilder().addAllUserIds(users)
        .setPayload(ByteString.copyFromUtf8(text)).setContentType("text/plain").build();
  }

  private static ClientFrame auth(String token) {
    return ClientFrame.newBuilder().setAuth(Auth.newBuilder().setToken(token)).build();
  }

  private static void awaitNoUnauthenticated() throws Exception {
    awaitUnauthenticated(0);
  }

  private static void awaitUnauthenticated(int count) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    double now = unauthenticated();
    while (now != count && System.nanoTime() < deadline) {
      Thread.sleep(20);
      now = unauthenticated();
    }
    assertThat(now).as("connections not authenticated yet").isEqualTo(count);
  }

  private static double unauthenticated() throws Exception {
    return TestCluster.metric(cluster.edgeMetrics(0), "homing_edge_unauthenticated");
  }

  private static String readAll(InputStream in) throws Exception {
    return new String(in.readAllBytes(), StandardCharsets.UTF_8);
  }

  /** The message ids of the user's records in {@code inbound}, once {@code count} arrived. */
  private static List<String> inboundIdsOf(String user, int count) throws Exception {
    Properties properties = new Properties();
    properties.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.kafka.bootstrapServers());
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(properties,
        new StringDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = consumer.partitionsFor(cluster.topics.inbound()).stream()
          .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      List<String> ids = new ArrayList<>();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
      while (System.nanoTime() < deadline) {
        for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
          if (user.equals(record.key())) {
            ids.add(InboundMessage.parseFrom(record.value()).getMessageId());
          }
        }
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
        boolean caughtUp = partitions.stream().allMatch(p -> consumer.position(p) >= end.get(p));
        if (ids.size() >= count && caughtUp) {
          break;
        }
      }
      return ids;
    }
  }
}
