package io.homing.edge.transport.websocket;

import static org.assertj.core.api.Assertions.assertThat;

import io.homing.api.v1.AuthError;
import io.homing.api.v1.Pong;
import io.homing.api.v1.ServerFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class CloseCodesTest {
  @Test
  void closeCodesFollowTheErrorCodes() {
    ServerFrame authError = ServerFrame.newBuilder()
        .setAuthError(AuthError.newBuilder().setCode(AuthError.Code.EXPIRED_TOKEN)
            .setMessage("x".repeat(300)))
        .build();

    WebSocketCloseStatus status = CloseCodes.of(authError);

    assertThat(status.code()).isEqualTo(4102);
    assertThat(status.reasonText()).startsWith("EXPIRED_TOKEN: xxx").hasSize(123);
    assertThat(CloseCodes.truncate("é".repeat(100)).getBytes(StandardCharsets.UTF_8))
        .hasSizeLessThanOrEqualTo(123);
    assertThat(CloseCodes.of(ServerFrame.newBuilder().setPong(Pong.getDefaultInstance()).build()))
        .isNull();
  }
}
