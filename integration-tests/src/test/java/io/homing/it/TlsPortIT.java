package io.homing.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.homing.api.v1.Auth;
import io.homing.api.v1.ClientFrame;
import io.homing.api.v1.Error;
import io.homing.api.v1.ServerFrame;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Edges that serve TLS only tell a client that speaks plaintext why they close, and count it. */
class TlsPortIT {
  @RegisterExtension
  static final TestCluster cluster =
      TestCluster.perClass(1, TestCluster.Options.defaults().withTls());

  @Test
  void plainHttpOnTheWebSocketPortGetsA400ThatSaysWhy() throws Exception {
    double before = refused("websocket", "plaintext");
    URI ws = cluster.wsUri(0);
    try (Socket socket = new Socket(ws.getHost(), ws.getPort())) {
      socket.getOutputStream().write(("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
          + "Connection: Upgrade\r\n\r\n").getBytes(StandardCharsets.US_ASCII));

      String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);

      assertThat(answer).startsWith("HTTP/1.1 400 Bad Request\r\n")
          .endsWith("\r\n\r\nThis port speaks TLS only: use https:// or wss://.\n");
    }
    assertThat(refused("websocket", "plaintext")).isEqualTo(before + 1);
  }

  @Test
  void aPlainTcpClientGetsAnErrorFrameThatSaysWhy() throws Exception {
    double before = refused("tcp", "plaintext");
    URI tcp = cluster.tcpUri(0);
    try (Socket socket = new Socket(tcp.getHost(), tcp.getPort())) {
      OutputStream out = socket.getOutputStream();
      ClientFrame.newBuilder()
          .setAuth(Auth.newBuilder().setToken(cluster.token("tess", "phone")))
          .build()
          .writeDelimitedTo(out);
      InputStream in = socket.getInputStream();

      ServerFrame frame = ServerFrame.parseDelimitedFrom(in);

      assertThat(frame.getError().getCode()).isEqualTo(Error.Code.MALFORMED_FRAME);
      assertThat(frame.getError().getMessage())
          .isEqualTo("this port speaks TLS only: connect with TLS (tls://)");
      assertThat(in.read()).as("closed after the answer").isEqualTo(-1);
    }
    assertThat(refused("tcp", "plaintext")).isEqualTo(before + 1);
  }

  @Test
  void aHandshakeTheClientRefusesIsCountedAndATrustingClientStillGetsIn() throws Exception {
    double before = refused("tcp", "handshake");
    URI tcp = cluster.tcpUri(0);
    try (SSLSocket untrusting = (SSLSocket) SSLContext.getDefault().getSocketFactory()
        .createSocket(tcp.getHost(), tcp.getPort())) {
      assertThatThrownBy(untrusting::startHandshake).isInstanceOf(SSLHandshakeException.class);
    }
    awaitRefused("tcp", "handshake", before + 1);

    Inbox inbox = new Inbox();
    cluster.track(cluster.client(tcp, "tess", "tablet").listener(inbox).connect())
        .authenticated().get();
    cluster.sendText("over TLS", "tess");
    assertThat(inbox.take(1)).extracting(Inbox.Received::text).containsExactly("over TLS");
  }

  private static double refused(String port, String reason) throws Exception {
    double value = TestCluster.metric(cluster.edgeMetrics(0),
        "homing_edge_tls_refused_total{port=\"" + port + "\",reason=\"" + reason + "\"}");
    return Double.isNaN(value) ? 0 : value;
  }

  private static void awaitRefused(String port, String reason, double count) throws Exception {
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (refused(port, reason) < count && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(refused(port, reason)).isEqualTo(count);
  }
}
