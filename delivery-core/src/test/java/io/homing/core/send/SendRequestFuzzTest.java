package io.homing.core.send;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.InvalidProtocolBufferException;
import io.homing.api.Limits;
import io.homing.api.v1.SendRequest;
import io.homing.core.ReceiptPolicy;
import io.homing.core.SendLimits;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;

/**
 * A Send API request as the core's gRPC server decodes it: protobuf bytes that parse or fail
 * with InvalidProtocolBufferException, and a request that {@link SendService#validate} either
 * refuses with a reason (INVALID_ARGUMENT) or accepts — and then everything the service builds
 * from it (ids, the TTL in milliseconds) is within the documented limits, so the call can only
 * end with a status chosen on purpose. See docs/fuzzing.md.
 */
class SendRequestFuzzTest {
  private static final int MAX_PAYLOAD_BYTES = 1024;
  private static final SendService SERVICE =
      new SendService(null, null, MAX_PAYLOAD_BYTES, SendLimits.defaults(),
          ReceiptPolicy.defaults(), null, new SimpleMeterRegistry());

  @FuzzTest
  void validatesOrRefusesWithAReason(byte[] input) {
    SendRequest request;
    try {
      request = SendRequest.parseFrom(input);
    } catch (InvalidProtocolBufferException malformed) {
      return;
    }
    String invalid = SERVICE.validate(request);
    if (invalid != null) {
      assertThat(invalid).contains("(expected: ");
      return;
    }
    assertThat(request.getUserIdsList()).isNotEmpty().allMatch(Limits::isValidId);
    assertThat(request.getPayload().size()).isLessThanOrEqualTo(MAX_PAYLOAD_BYTES);
    assertThat(request.getMessageId().length()).isLessThanOrEqualTo(Limits.MAX_ID_LENGTH);
    if (request.hasTtl()) {
      assertThat(Duration.ofSeconds(request.getTtl().getSeconds(), request.getTtl().getNanos())
          .toMillis()).isPositive();
    }
  }
}
