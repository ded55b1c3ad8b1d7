package io.homing.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class WebhookSignatureTest {
  // The reference vector of the Standard Webhooks libraries (WebhookTest.verifyWebhookSignWorks).
  private static final String SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  private static final String ID = "msg_p5jXN8AQM9LWM0D4loKWxJek";
  private static final long TIMESTAMP = 1614265330;
  private static final byte[] BODY = "{\"test\": 2432232314}".getBytes(StandardCharsets.UTF_8);
  private static final String SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
  private static final Instant THEN = Instant.ofEpochSecond(TIMESTAMP);

  @Test
  void signsTheReferenceVector() {
    assertThat(WebhookSignature.sign(WebhookSignature.key(SECRET), ID, TIMESTAMP, BODY))
        .isEqualTo(SIGNATURE);
  }

  @Test
  void verifiesTheReferenceVectorWithinFiveMinutes() {
    assertThat(verify(BODY, SIGNATURE, THEN.plusSeconds(299))).isTrue();
    assertThat(verify(BODY, SIGNATURE, THEN.minusSeconds(299))).isTrue();
  }

  @Test
  void refusesATimestampMoreThanFiveMinutesAway() {
    assertThat(verify(BODY, SIGNATURE, THEN.plusSeconds(301))).isFalse();
    assertThat(verify(BODY, SIGNATURE, THEN.minusSeconds(301))).isFalse();
  }

  @Test
  void refusesAnotherBody() {
    assertThat(verify("{\"test\":2432232314}".getBytes(StandardCharsets.UTF_8), SIGNATURE, THEN))
        .isFalse();
  }

  @Test
  void findsTheSignatureAmongSeveralAndIgnoresOtherVersions() {
    String others = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= "
        + "v2," + SIGNATURE.substring(3);
    assertThat(verify(BODY, others + " " + SIGNATURE, THEN)).isTrue();
    assertThat(verify(BODY, others, THEN)).isFalse();
  }

  @Test
  void headerSignsWithEveryKey() {
    byte[] other = WebhookSignature.key("whsec_" + "c2Vjb25kLXNlY3JldC1mb3Itcm90YXRpb24=");
    String header = WebhookSignature.header(
        List.of(WebhookSignature.key(SECRET), other), ID, TIMESTAMP, BODY);

    assertThat(header.split(" ")).containsExactly(
        SIGNATURE, WebhookSignature.sign(other, ID, TIMESTAMP, BODY));
  }

  @Test
  void refusesASecretWithoutItsPrefix() {
    assertThatThrownBy(() -> WebhookSignature.key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("whsec_");
  }

  private static boolean verify(byte[] body, String header, Instant now) {
    return WebhookSignature.verify(SECRET, ID, Long.toString(TIMESTAMP), body, header, now,
        WebhookSignature.DEFAULT_TOLERANCE);
  }
}
