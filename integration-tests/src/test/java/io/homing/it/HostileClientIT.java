package io.homing.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.homing.api.v1.AuthError;
import io.homing.api.v1.SendRequest;
import io.homing.api.v1.ServerFrame;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Clients out to hurt the edge or other users, over real sockets against the real stack:
 * connections that never finish the upgrade or a request, acks of seqs never delivered, and ids
 * built to collide with other users' keys. None of them may hold resources past the configured
 * times or touch another user.
 */
class HostileClientIT {
  /** Auth timeout 2 s (the test cluster's); idle timeout 4 s, so the keep-alive test is short. */
  private static final Duration IDLE_TIMEOUT = Duration.ofSeconds(4);

  @RegisterExtension static final TestCluster cluster =
      TestCluster.perClass(1, TestCluster.Options.defaults().withIdleTimeout(IDLE_TIMEOUT));

  @Test
  void connectionsThatNeverFinishTheUpgradeAreClosedInTheAuthTimeoutAndOthersGoOn()
      throws Exception {
    String user = "patient-" + UUID.randomUUID();
    Inbox inbox = new Inbox();
    cluster.connected(0, user, "d1", inbox);
    List<Socket> stalled = new ArrayList<>();
    long start = System.nanoTime();
    try {
      for (int i = 0; i < 40; i++) {
        Socket socket = new Socket("127.0.0.1", cluster.wsUri(0).getPort());
        // Half a request, then nothing: the slowest client an edge can meet.
        write(socket, "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n");
        stalled.add(socket);
      }
      for (int i = 0; i < 10; i++) {
        Socket socket = new Socket("127.0.0.1", cluster.tcpUri(0).getPort());
        stalled.add(socket); // connected, never a byte
      }
      awaitUnauthenticated(50);

      cluster.sendText("meanwhile", user);
      assertThat(inbox.take(1).get(0).text()).isEqualTo("meanwhile");

      for (Socket socket : stalled) {
        assertThat(readUntilClosed(socket, Duration.ofSeconds(10))).isNotNull();
      }
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
    } finally {
      for (Socket socket : stalled) {
        socket.close();
      }
    }
    awaitUnauthenticated(0);
  }

  @Test
  void aPlainHttpConnectionKeptAliveIsClosedAfterTheIdleTimeoutEvenWhenItDribbles()
      throws Exception {
    try (Socket idle = new Socket("127.0.0.1", cluster.wsUri(0).getPort())) {
      write(idle, "GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      assertThat(readHead(idle)).startsWith("HTTP/1.1 404");
      long answered = System.nanoTime();

      assertThat(readUntilClosed(idle, Duration.ofSeconds(10))).isEmpty();
      assertThat(Duration.ofNanos(System.nanoTime() - answered))
          .isBetween(IDLE_TIMEOUT.minusMillis(500), IDLE_TIMEOUT.plusSeconds(4));
    }
    try (Socket dribbling = new Socket("127.0.0.1", cluster.wsUri(0).getPort())) {
      write(dribbling, "GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      assertThat(readHead(dribbling)).startsWith("HTTP/1.1 404");
      long answered = System.nanoTime();
      // The next request comes a byte every 250 ms and never ends: it does not keep the
      // connection.
      Duration dribbleFor = IDLE_TIMEOUT.plusSeconds(2);
      while (Duration.ofNanos(System.nanoTime() - answered).compareTo(dribbleFor) < 0) {
        try {
          write(dribbling, "x");
        } catch (IOException e) {
          break; // closed under us
        }
        Thread.sleep(250);
      }
      assertThat(readUntilClosed(dribbling, Duration.ofSeconds(2))).isNotNull();
    }
  }

  @Test
  void acksOfSeqsNeverDeliveredAcknowledgeNothingBeyondWhatWasSent() throws Exception {
    String user = "acker-" + UUID.randomUUID();
    String token = cluster.token(user, "d1");
    try (RawWebSocket first = new RawWebSocket(cluster.wsUri(0))) {
      first.authenticate(token, 0);
      cluster.sendText("one", user);
      assertThat(first.nextPushSeq(10)).isEqualTo(1);
      first.ack(Long.MAX_VALUE);
      first.ack(1_000_000);
      // Let the acks reach the core before "two" does, or they would count for it.
      Thread.sleep(1_000);
      cluster.sendText("two", user);
      assertThat(first.nextPushSeq(10)).isEqualTo(2);
      // The connection stays open: a client acking ahead only harms itself.
      assertThat(first.closed).isNotDone();
    }
    // The huge acks counted for seq 1 only, the last one there was: seq 2 comes again.
    try (RawWebSocket second = new RawWebSocket(cluster.wsUri(0))) {
      assertThat(second.authenticate(token, 0).getResumeAfter()).isEqualTo(1);
      assertThat(second.nextPushSeq(10)).isEqualTo(2);
    }
  }

  @Test
  void idsWithGlobOrLookAlikeCharactersAreUsersOfTheirOwn() throws Exception {
    String base = "glob-" + UUID.randomUUID().toString().substring(0, 8);
    // Each could match base + "a" as a Redis pattern or look like it on screen.
    List<String> users = List.of(base + "a", base + "*", base + "?", base + "[a]", base + "\\a",
        base + "\u0430", base + "a\u200b", base.toUpperCase() + "A");
    Map<String, Inbox> inboxes = new LinkedHashMap<>();
    for (String user : users) {
      Inbox inbox = new Inbox();
      cluster.connected(0, user, "d1", inbox);
      inboxes.put(user, inbox);
    }
    for (String user : users) {
      cluster.sendText("for " + user, user);
    }
    for (Map.Entry<String, Inbox> entry : inboxes.entrySet()) {
      assertThat(entry.getValue().take(1).get(0).text()).isEqualTo("for " + entry.getKey());
      assertThat(cluster.presenceRoute(entry.getKey(), "d1")).isNotNull();
    }
    Thread.sleep(500);
    for (Inbox inbox : inboxes.values()) {
      assertThat(inbox.pending()).isZero();
    }
  }

  @Test
  void idsWithControlCharactersAreRefusedWhereverTheyComeFrom() throws Exception {
    try (RawWebSocket socket = new RawWebSocket(cluster.wsUri(0))) {
      socket.sendBinary(io.homing.api.v1.ClientFrame.newBuilder()
          .setAuth(io.homing.api.v1.Auth.newBuilder()
              .setToken(cluster.token("mallory\nINFO forged log line", "d1")))
          .build().toByteArray());
      ServerFrame frame = socket.next(10);
      assertThat(frame.getAuthError().getCode()).isEqualTo(AuthError.Code.INVALID_TOKEN);
      assertThat(frame.getAuthError().getMessage()).contains("no control characters");
    }
    assertThatThrownBy(() -> cluster.send().send(SendRequest.newBuilder()
        .addUserIds("mallory\u0000").setPayload(ByteString.copyFromUtf8("x")).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).contains("no control characters");
        });
  }

  private static void awaitUnauthenticated(int count) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    double now;
    while ((now = TestCluster.metric(cluster.edgeMetrics(0), "homing_edge_unauthenticated"))
        != count && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(now).isEqualTo(count);
  }

  private static void write(Socket socket, String text) throws IOException {
    OutputStream out = socket.getOutputStream();
    out.write(text.getBytes(StandardCharsets.US_ASCII));
    out.flush();
  }

  /** The answer's head, up to the blank line. */
  private static String readHead(Socket socket) throws IOException {
    socket.setSoTimeout(10_000);
    InputStream in = socket.getInputStream();
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        break;
      }
      head.append((char) b);
    }
    return head.toString();
  }

  /**
   * What the server sent until it closed the connection, or null if it did not close it within
   * {@code within}.
   */
  private static String readUntilClosed(Socket socket, Duration within) throws IOException {
    socket.setSoTimeout((int) within.toMillis());
    StringBuilder read = new StringBuilder();
    try {
      InputStream in = socket.getInputStream();
      for (int b = in.read(); b >= 0; b = in.read()) {
        read.append((char) b);
      }
    } catch (SocketTimeoutException e) {
      return null;
    } catch (IOException e) {
      return read.toString(); // reset: closed too
    }
    return read.toString();
  }
}
