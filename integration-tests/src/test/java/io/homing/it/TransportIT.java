package io.homing.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.homing.api.v1.AuthError;
import io.homing.api.v1.AuthOk;
import io.homing.api.v1.Error;
import io.homing.api.v1.ServerFrame;
import io.homing.client.AuthRefusedException;
import io.homing.client.HomingConnection;
import io.homing.client.Tokens;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One end-to-end suite, run on every client transport — WebSocket with protobuf in binary frames,
 * WebSocket with JSON in text frames, raw TCP — each without and with TLS. One cluster per TLS
 * mode serves every test; each test has users of its own. The TLS cluster secures every hop, not
 * only the clients' (TestCluster.Options#withSecurity): Kafka over SASL_SSL, Redis over TLS with an
 * ACL user, mutual TLS between core and edge, the Send API over TLS with an API key.
 */
class TransportIT {
  @RegisterExtension static final TestCluster plain = TestCluster.perClass(1);
  @RegisterExtension static final TestCluster secure =
      TestCluster.perClass(1, TestCluster.Options.defaults().withSecurity());

  private static final AtomicInteger users = new AtomicInteger();
  private static final int MAX_FRAME_BYTES = 64 * 1024;

  enum Transport { WEBSOCKET_BINARY, WEBSOCKET_JSON, TCP }

  /** A transport and whether it runs over TLS; names the test. */
  record Mode(Transport transport, boolean tls) {
    TestCluster cluster() {
      return tls ? secure : plain;
    }

    URI uri() {
      return transport == Transport.TCP ? cluster().tcpUri(0) : cluster().wsUri(0);
    }

    /** A client of this transport, trusting the cluster's CA. */
    HomingConnection.Builder client(String user, String device) {
      return cluster().client(uri(), user, device).json(transport == Transport.WEBSOCKET_JSON);
    }

    /** Connects, waits for AuthOk and hands the messages to the inbox; closed with the cluster. */
    HomingConnection connected(HomingConnection.Builder builder, Inbox inbox) throws Exception {
      HomingConnection connection = cluster().track(builder.listener(inbox).connect());
      connection.authenticated().get(10, TimeUnit.SECONDS);
      return connection;
    }

    /** A raw socket's TLS: trusting the cluster's CA; null without TLS. */
    SSLContext rawTls() {
      return tls ? cluster().certificates().clientContext() : null;
    }

    @Override
    public String toString() {
      return transport + (tls ? " over TLS" : "");
    }
  }

  static Stream<Mode> modes() {
    return Stream.of(false, true)
        .flatMap(tls -> Arrays.stream(Transport.values()).map(t -> new Mode(t, tls)));
  }

  static Stream<Mode> tlsModes() {
    return modes().filter(Mode::tls);
  }

  /** A user id no other test uses. */
  private static String user(String name) {
    return name + "-" + users.incrementAndGet();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("modes")
  void anOnlineClientReceivesMessagesInOrder(Mode mode) throws Exception {
    String user = user("online");
    Inbox inbox = new Inbox();
    mode.connected(mode.client(user, "phone"), inbox);

    mode.cluster().sendText("through the Send API", user);
    mode.cluster().produce(user, "straight to Kafka");

    assertThat(inbox.take(2)).extracting(Inbox.Received::seq, Inbox.Received::text)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(1L, "through the Send API"),
            org.assertj.core.groups.Tuple.tuple(2L, "straight to Kafka"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("modes")
  void theBacklogArrivesOnConnect(Mode mode) throws Exception {
    String user = user("offline");
    for (int i = 1; i <= 3; i++) {
      mode.cluster().sendText("while away " + i, user);
    }
    Inbox inbox = new Inbox();
    mode.connected(mode.client(user, "phone"), inbox);

    assertThat(inbox.take(3)).extracting(Inbox.Received::seq, Inbox.Received::text)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(1L, "while away 1"),
            org.assertj.core.groups.Tuple.tuple(2L, "while away 2"),
            org.assertj.core.groups.Tuple.tuple(3L, "while away 3"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("modes")
  void aReconnectResumesAfterTheLastSeqItNames(Mode mode) throws Exception {
    String user = user("resume");
    for (int i = 1; i <= 3; i++) {
      mode.cluster().sendText("m" + i, user);
    }
    Inbox first = new Inbox();
    HomingConnection connection = mode.connected(mode.client(user, "phone").autoAck(false), first);
    assertThat(first.take(3)).extracting(Inbox.Received::seq).containsExactly(1L, 2L, 3L);
    closeAndAwaitGone(mode, connection, user, "phone");

    Inbox second = new Inbox();
    mode.connected(mode.client(user, "phone").lastSeq(2), second);
    mode.cluster().sendText("m4", user);

    assertThat(second.take(2)).extracting(Inbox.Received::seq, Inbox.Received::text)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(3L, "m3"),
            org.assertj.core.groups.Tuple.tuple(4L, "m4"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("modes")
  void aReconnectDoesNotRedeliverAckedMessages(Mode mode) throws Exception {
    String user = user("acked");
    mode.cluster().sendText("m1", user);
    mode.cluster().sendText("m2", user);
    Inbox first = new Inbox();
    HomingConnection connection = mode.connected(mode.client(user, "phone"), first);
    assertThat(first.take(2)).extracting(Inbox.Received::seq).containsExactly(1L, 2L);
    await().atMost(Duration.ofSeconds(5)).until(() -> connection.lastDelivered() == 2);
    closeAndAwaitGone(mode, connection, user, "phone");

    Inbox second = new Inbox();
    AuthOk ok = mode.connected(mode.client(user, "phone"), second).authenticated().get();
    mode.cluster().sendText("m3", user);

    assertThat(ok.getResumeAfter()).isEqualTo(2);
    assertThat(second.take(1)).extracting(Inbox.Received::seq, Inbox.Received::text)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(3L, "m3"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("modes")
  void anUnackedMessageIsDeliveredAgainOnReconnect(Mode mode) throws Exception {
    String user = user("unacked");
    mode.cluster().sendText("not acked", user);
    Inbox first = new Inbox();
    HomingConnection connection = mode.connected(mode.client(user, "phone").autoAck(false), first);
    Inbox.Received original = first.take(1).get(0);
    closeAndAwaitGone(mode, connection, user, "phone");

    Inbox second = new Inbox();
    mode.connected(mode.client(user, "phone"), second);

    Inbox.Received again = second.take(1).get(0);
    assertThat(again.seq()).isEqualTo(1);
    assertThat(again.message().getMessageId()).isEqualTo(original.message().getMessageId());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("modes")
  void aClientAheadOfTheStreamIsToldWhereItStandsAndGetsTheNextSeq(Mode mode) throws Exception {
    String user = user("ahead");
    Inbox other = new Inbox();
    mode.connected(mode.client(user, "tablet"), other);
    for (int i = 1; i <= 3; i++) {
      mode.cluster().sendText("m" + i, user);
    }
    other.take(3); // core holds all three now

    Inbox inbox = new Inbox();
    HomingConnection connection = mode.connected(mode.client(user, "phone").lastSeq(10), inbox);
    AuthOk ok = connection.authenticated().get();
    assertThat(ok.getLastSeq()).isEqualTo(3);
    assertThat(ok.getResumeAfter()).isEqualTo(3);
    assertThat(connection.lastDelivered()).isEqualTo(3);

    mode.cluster().sendText("m4", user);
    assertThat(inbox.take(1)).extracting(Inbox.Received::seq, Inbox.Received::text)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(4L, "m4"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("modes")
  void aBadTokenIsRefused(Mode mode) throws Exception {
    String user = user("forged");
    String forged = Tokens.mint("another-secret-0123456789abcdef-0123456789", user, "phone",
        Duration.ofMinutes(10));
    HomingConnection connection = mode.cluster().track(
        mode.cluster().client(mode.uri(), forged)
            .json(mode.transport() == Transport.WEBSOCKET_JSON)
            .connect());

    assertThatThrownBy(() -> connection.authenticated().get(10, TimeUnit.SECONDS))
        .cause().isInstanceOfSatisfying(AuthRefusedException.class,
            e -> assertThat(e.error().getCode()).isEqualTo(AuthError.Code.INVALID_TOKEN));
    connection.closed().get(10, TimeUnit.SECONDS);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("modes")
  void aMalformedFrameGetsAnErrorAndTheConnectionCloses(Mode mode) throws Exception {
    if (mode.transport() == Transport.TCP) {
      try (RawTcpSocket socket = new RawTcpSocket(mode.uri(), mode.rawTls())) {
        socket.sendRaw(new byte[] {3, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF});

        assertThat(errorCode(socket.next(10))).isEqualTo(Error.Code.MALFORMED_FRAME);
        socket.closed.get(10, TimeUnit.SECONDS);
      }
      return;
    }
    try (RawWebSocket socket = new RawWebSocket(mode.uri(), mode.rawTls())) {
      if (mode.transport() == Transport.WEBSOCKET_JSON) {
        socket.sendText("{\"auth\": not JSON");
      } else {
        socket.sendBinary(new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF});
      }

      assertThat(errorCode(socket.next(10))).isEqualTo(Error.Code.MALFORMED_FRAME);
      socket.closed.get(10, TimeUnit.SECONDS);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("modes")
  void anOversizedFrameIsRefused(Mode mode) throws Exception {
    if (mode.transport() == Transport.TCP) {
      try (RawTcpSocket socket = new RawTcpSocket(mode.uri(), mode.rawTls())) {
        socket.sendRaw(delimited(new byte[MAX_FRAME_BYTES + 1]));

        assertThat(errorCode(socket.next(10))).isEqualTo(Error.Code.FRAME_TOO_LARGE);
        socket.closed.get(10, TimeUnit.SECONDS);
      }
      return;
    }
    try (RawWebSocket socket = new RawWebSocket(mode.uri(), mode.rawTls())) {
      if (mode.transport() == Transport.WEBSOCKET_JSON) {
        socket.sendText("x".repeat(MAX_FRAME_BYTES + 1));
      } else {
        socket.sendBinary(new byte[MAX_FRAME_BYTES + 1]);
      }

      assertThat(socket.closed.get(10, TimeUnit.SECONDS)).isEqualTo(1009);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("tlsModes")
  void aClientThatDoesNotTrustTheCertificateIsRefusedAndGetsNothing(Mode mode) throws Exception {
    String user = user("untrusting");
    mode.cluster().sendText("not for an untrusting client", user);
    Inbox inbox = new Inbox();
    // No trusted certificates: the JDK's trust store, which lacks the cluster's CA.
    HomingConnection connection = mode.cluster().track(
        HomingConnection.builder(mode.uri(), mode.cluster().token(user, "phone"))
            .json(mode.transport() == Transport.WEBSOCKET_JSON)
            .listener(inbox)
            .connect());

    assertThatThrownBy(() -> connection.authenticated().get(10, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class).cause().isInstanceOf(SSLHandshakeException.class);
    assertThat(connection.closed().get(10, TimeUnit.SECONDS)).startsWith("TLS handshake failed");
    assertThat(mode.cluster().holds(0, user, "phone")).isFalse();
    assertThat(inbox.pending()).isZero();
  }

  /** Closes the connection and waits until the edge let go of it (and published its acks). */
  private static void closeAndAwaitGone(Mode mode, HomingConnection connection, String user,
      String device) throws Exception {
    connection.close();
    connection.closed().get(10, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(10))
        .until(() -> !mode.cluster().holds(0, user, device));
  }

  private static Error.Code errorCode(ServerFrame frame) {
    assertThat(frame).as("an Error frame").isNotNull();
    return frame.getError().getCode();
  }

  /** The bytes after their length as a varint32, as the TCP transport frames them. */
  private static byte[] delimited(byte[] body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int length = body.length;
    while ((length & ~0x7F) != 0) {
      out.write((length & 0x7F) | 0x80);
      length >>>= 7;
    }
    out.write(length);
    out.writeBytes(body);
    return out.toByteArray();
  }
}
