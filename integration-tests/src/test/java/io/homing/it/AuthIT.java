package io.homing.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.homing.api.v1.AuthError;
import io.homing.client.AuthRefusedException;
import io.homing.client.HomingConnection;
import io.homing.client.Tokens;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class AuthIT {
  @RegisterExtension static final TestCluster cluster = TestCluster.perClass(1);

  @Test
  void refusesATokenSignedWithAnotherSecretAndClosesTheConnection() throws Exception {
    String forged =
        Tokens.mint("not-the-edge-secret-but-long-enough-0123", "mallory", "x",
            Duration.ofMinutes(5));

    AuthError error = refusal(forged);

    assertThat(error.getCode()).isEqualTo(AuthError.Code.INVALID_TOKEN);
    assertThat(error.getMessage()).contains("token refused");
  }

  @Test
  void refusesAnExpiredToken() throws Exception {
    String expired = Tokens.mint(TestCluster.SECRET, "nick", "phone", Duration.ofMinutes(-5));

    AuthError error = refusal(expired);

    assertThat(error.getCode()).isEqualTo(AuthError.Code.EXPIRED_TOKEN);
    assertThat(error.getMessage()).startsWith("token expired at");
  }

  @Test
  void refusesGarbageInsteadOfAToken() throws Exception {
    assertThat(refusal("not.a.jwt").getCode()).isEqualTo(AuthError.Code.INVALID_TOKEN);
  }

  @Test
  void aRefusedClientReceivesNothingSentToTheUser() throws Exception {
    String forged =
        Tokens.mint("not-the-edge-secret-but-long-enough-0123", "olga", "x", Duration.ofMinutes(5));
    refusal(forged);
    Inbox olga = new Inbox();
    cluster.connected(0, "olga", "real", olga);
    cluster.sendText("for the real olga", "olga");
    assertThat(olga.take(1)).extracting(Inbox.Received::seq).containsExactly(1L);
  }

  private AuthError refusal(String token) throws Exception {
    HomingConnection connection =
        cluster.track(HomingConnection.builder(cluster.wsUri(0), token).connect());
    Throwable thrown = catchThrowable(() -> connection.authenticated().get(10, TimeUnit.SECONDS));
    assertThat(thrown).isInstanceOf(ExecutionException.class);
    assertThat(thrown.getCause()).isInstanceOf(AuthRefusedException.class);
    connection.closed().get(10, TimeUnit.SECONDS); // the edge closes it
    return ((AuthRefusedException) thrown.getCause()).error();
  }
}
