package io.homing.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.homing.api.v1.Ack;
import io.homing.api.v1.AuthError;
import io.homing.api.v1.ClientFrame;
import io.homing.api.v1.Error;
import io.homing.api.v1.ServerFrame;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Clients that break the protocol get a clear error and a closed connection. */
class BadClientIT {
  @RegisterExtension static final TestCluster cluster = TestCluster.perClass(1);

  @Test
  void aClientThatNeverAuthenticatesIsClosedAfterTheAuthTimeout() throws Exception {
    try (RawWebSocket socket = new RawWebSocket(cluster.wsUri(0))) {
      ServerFrame frame = socket.next(10); // the test cluster's auth timeout is 2 s

      assertThat(frame.getAuthError().getCode()).isEqualTo(AuthError.Code.AUTH_TIMEOUT);
      assertThat(socket.closed.get(10, TimeUnit.SECONDS)).isEqualTo(4103); // 4100 + AUTH_TIMEOUT
    }
  }

  @Test
  void aFirstFrameOtherThanAuthIsRefused() throws Exception {
    try (RawWebSocket socket = new RawWebSocket(cluster.wsUri(0))) {
      socket.sendBinary(
          ClientFrame.newBuilder().setAck(Ack.newBuilder().setSeq(1)).build().toByteArray());

      ServerFrame frame = socket.next(10);
      assertThat(frame.getAuthError().getCode()).isEqualTo(AuthError.Code.AUTH_REQUIRED);
      assertThat(frame.getAuthError().getMessage()).contains("first frame must be Auth");
      assertThat(socket.closed.get(10, TimeUnit.SECONDS)).isEqualTo(4104); // 4100 + AUTH_REQUIRED
    }
  }

  @Test
  void aMalformedFrameGetsAnErrorAndTheConnectionIsClosed() throws Exception {
    try (RawWebSocket socket = new RawWebSocket(cluster.wsUri(0))) {
      socket.sendBinary(new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF});

      ServerFrame frame = socket.next(10);
      assertThat(frame.getError().getCode()).isEqualTo(Error.Code.MALFORMED_FRAME);
      assertThat(socket.closed.get(10, TimeUnit.SECONDS)).isEqualTo(4001); // 4000 + MALFORMED_FRAME
    }
  }

  @Test
  void anOversizedFrameClosesTheConnectionWithMessageTooBig() throws Exception {
    try (RawWebSocket socket = new RawWebSocket(cluster.wsUri(0))) {
      socket.sendBinary(new byte[64 * 1024 + 1]);

      assertThat(socket.closed.get(10, TimeUnit.SECONDS)).isEqualTo(1009);
    }
  }

  @Test
  void fragmentsAddingUpToAnOversizedMessageCloseWithMessageTooBig() throws Exception {
    try (RawWebSocket socket = new RawWebSocket(cluster.wsUri(0))) {
      socket.sendBinary(new byte[40 * 1024], false);
      socket.sendBinary(new byte[40 * 1024], true);

      assertThat(socket.closed.get(10, TimeUnit.SECONDS)).isEqualTo(1009);
    }
  }
}
