package io.homing.core.send;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.grpc.Attributes;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.Status;
import io.homing.api.ApiKey;
import io.homing.api.Limits;
import io.homing.runtime.auth.TokenSettings;
import io.homing.testing.FuzzTokens;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;

/**
 * The {@code authorization} metadata of a Send API call, through the real {@link
 * SendAuthentication} with a key file and sender tokens (HS256) configured: the call reaches the
 * service as a sender whose name and recipient patterns could be a line of the key file, or it is
 * closed with {@code UNAUTHENTICATED} and a description without the credential in it.
 *
 * <p>The first byte picks what the rest is: the metadata's value as it is; {@code Bearer } and a
 * token whose header and claims (split at the first NUL) are signed with the secret, so that the
 * fuzzer reaches the claim checks behind the signature; or {@code Bearer }, the one key of the
 * file, and the rest. See docs/fuzzing.md.
 */
class SendAuthenticationFuzzTest {
  private static final String SECRET = "send-authentication-fuzz-0123456789abcdefghijklmnopqrstuv";
  private static final String KEY = ApiKey.generate();
  private static ApiKeyFile keys;
  private static SenderTokens tokens;
  private static SendAuthentication authentication;

  /** Made at the first input, once the fuzzer's agent is in place. */
  private static SendAuthentication authentication() throws IOException {
    if (authentication == null) {
      Path file = Files.createTempFile("send-authentication-fuzz", ".keys");
      Files.writeString(file, "billing " + ApiKey.hash(KEY) + " billing-*,shop-*\n");
      keys = new ApiKeyFile(file);
      tokens = new SenderTokens(TokenSettings.hs256(SECRET));
      authentication = new SendAuthentication(keys, tokens, false, new SimpleMeterRegistry());
    }
    return authentication;
  }

  @AfterAll
  static void close() {
    if (authentication != null) {
      keys.close();
      tokens.close();
    }
  }

  @FuzzTest
  void authenticatesOrRefusesWithAStatus(byte[] input) throws IOException {
    if (input.length == 0) {
      return;
    }
    byte[] rest = Arrays.copyOfRange(input, 1, input.length);
    String value = switch (input[0] & 3) {
      case 0 -> new String(rest, StandardCharsets.ISO_8859_1);
      case 1 -> ApiKey.BEARER + FuzzTokens.hs256(rest, SECRET);
      case 2 -> ApiKey.BEARER + KEY + new String(rest, StandardCharsets.ISO_8859_1);
      default -> null; // no credential at all
    };
    Metadata headers = new Metadata();
    if (value != null) {
      try {
        headers.put(ApiKey.AUTHORIZATION, value);
      } catch (IllegalArgumentException notAscii) {
        return; // gRPC sends no such metadata
      }
    }
    Call call = new Call();
    Service service = new Service();

    authentication().interceptCall(call, headers, service);

    if (call.status != null) {
      assertThat(service.sender).isNull();
      assertThat(call.status.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(call.status.getDescription()).isNotBlank();
      String credential = value == null ? "" : value.substring(Math.min(value.length(),
          ApiKey.BEARER.length())).strip();
      if (credential.length() >= 24) {
        assertThat(call.status.getDescription()).doesNotContain(credential);
      }
      return;
    }
    Sender sender = service.sender;
    assertThat(sender).isNotNull();
    assertThat(sender.name()).matches(Limits::isValidId);
    assertThat(ApiKey.invalidSender(sender.name(), "*")).isNull();
    assertThat(sender.recipients()).allSatisfy(pattern -> assertThat(
        ApiKey.invalidSender(sender.name(), pattern)).isNull());
  }

  /** The service behind the interceptor: records the sender a call reached it as. */
  private static final class Service implements ServerCallHandler<byte[], byte[]> {
    Sender sender;

    @Override
    public ServerCall.Listener<byte[]> startCall(ServerCall<byte[], byte[]> call,
        Metadata headers) {
      sender = SendAuthentication.sender();
      return new ServerCall.Listener<byte[]>() {};
    }
  }

  /** A call that records how it was closed, if it was. */
  private static final class Call extends ServerCall<byte[], byte[]> {
    Status status;

    @Override
    public void request(int numMessages) {}

    @Override
    public void sendHeaders(Metadata headers) {}

    @Override
    public void sendMessage(byte[] message) {}

    @Override
    public void close(Status status, Metadata trailers) {
      this.status = status;
    }

    @Override
    public boolean isCancelled() {
      return false;
    }

    @Override
    public Attributes getAttributes() {
      return Attributes.EMPTY;
    }

    @Override
    public MethodDescriptor<byte[], byte[]> getMethodDescriptor() {
      throw new UnsupportedOperationException("not asked by the interceptor");
    }
  }
}
