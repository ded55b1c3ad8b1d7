package io.homing.core.send;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Duration;
import io.homing.api.v1.SendRequest;
import io.homing.core.ReceiptPolicy;
import io.homing.core.SendLimits;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

class SendServiceValidationTest {
  private final SendService service = new SendService(null, null, 1024,
      SendLimits.defaults(), ReceiptPolicy.defaults(), null, new SimpleMeterRegistry());

  @Test
  void refusesATtlWhoseMillisecondsDoNotFitALong() {
    // A SendRequestFuzzTest input: Duration.toMillis overflowed, the call failed with UNKNOWN.
    SendRequest request = SendRequest.newBuilder().addUserIds("alice")
        .setTtl(Duration.newBuilder().setSeconds(1L << 62)).build();

    assertThat(service.validate(request))
        .isEqualTo("ttl: " + (1L << 62) + "s 0ns (expected: 1 ms.." + SendService.MAX_TTL_SECONDS
            + " s)");
  }

  @Test
  void acceptsTheLongestTtl() {
    SendRequest request = SendRequest.newBuilder().addUserIds("alice")
        .setTtl(Duration.newBuilder().setSeconds(SendService.MAX_TTL_SECONDS)
            .setNanos(999_999_999)).build();

    assertThat(service.validate(request)).isNull();
  }
}
