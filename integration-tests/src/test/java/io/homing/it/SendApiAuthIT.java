package io.homing.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.homing.api.ApiKey;
import io.homing.api.v1.SendRequest;
import io.homing.api.v1.SendServiceGrpc;
import io.homing.client.SendApiKey;
import io.homing.core.send.ApiKeyFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A Send API with a key file: only known senders get in, and only to the users they may reach. */
class SendApiAuthIT {
  private static final String OPS_KEY = ApiKey.generate();
  private static final String SHOP_KEY = ApiKey.generate();

  private static final Path KEY_FILE = keyFile();

  @RegisterExtension
  static final TestCluster cluster =
      TestCluster.perClass(1, TestCluster.Options.defaults().withSendApiKeys(KEY_FILE));

  @Test
  void aCallWithoutAKnownKeyIsUnauthenticatedAndDeliversNothing() throws Exception {
    Inbox inbox = new Inbox();
    cluster.connected(0, "una", "phone", inbox);
    double missingBefore = coreMetric("homing_send_unauthenticated_total{credentials=\"missing\"}");
    double unknownBefore = coreMetric("homing_send_unauthenticated_total{credentials=\"unknown\"}");

    assertUnauthenticated(() -> cluster.send().send(text("no key", "una")),
        "no credentials (expected: the metadata 'authorization: Bearer <api key>')");
    assertUnauthenticated(() -> withAuthorization("Basic " + OPS_KEY).send(text("basic", "una")),
        "no credentials");
    assertUnauthenticated(() -> withAuthorization("Bearer   ").send(text("blank", "una")),
        "no credentials");
    assertUnauthenticated(() -> as(ApiKey.generate()).send(text("unknown key", "una")),
        "unknown API key");
    assertUnauthenticated(() -> as(ApiKey.hash(OPS_KEY)).send(text("the hash", "una")),
        "unknown API key");

    as(OPS_KEY).send(text("with the key", "una"));
    Inbox.Received first = inbox.take(1).get(0);
    assertThat(first.text()).isEqualTo("with the key");
    assertThat(first.seq()).isEqualTo(1); // nothing refused got a seq
    assertThat(coreMetric("homing_send_unauthenticated_total{credentials=\"missing\"}"))
        .isEqualTo(missingBefore + 3);
    assertThat(coreMetric("homing_send_unauthenticated_total{credentials=\"unknown\"}"))
        .isEqualTo(unknownBefore + 2);
  }

  @Test
  void aSenderSendsOnlyToTheUsersItMayReach() throws Exception {
    Inbox shopper = new Inbox();
    cluster.connected(0, "shop-7", "phone", shopper);
    Inbox carol = new Inbox();
    cluster.connected(0, "carol", "phone", carol);

    assertThatThrownBy(() -> as(SHOP_KEY).send(text("to one it may not reach", "shop-7", "dave")))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
          assertThat(e.getStatus().getDescription()).isEqualTo(
              "sender shop may not send to 'dave' (allowed: shop-*,carol): nothing was sent");
        });
    assertThat(coreMetric("homing_send_permission_denied_total")).isGreaterThanOrEqualTo(1);

    as(SHOP_KEY).send(text("an order", "shop-7", "carol"));
    assertThat(shopper.take(1)).extracting(Inbox.Received::text).containsExactly("an order");
    assertThat(carol.take(1)).extracting(Inbox.Received::text).containsExactly("an order");
  }

  @Test
  void keysAddedToTheFileWorkWithinSecondsAndRemovedOnesStop() throws Exception {
    Inbox inbox = new Inbox();
    cluster.connected(0, "rota", "phone", inbox);
    String before = Files.readString(KEY_FILE);
    String next = ApiKey.generate();
    try {
      Files.writeString(KEY_FILE, before + "ops " + ApiKey.hash(next) + " *\n");
      await().atMost(Duration.ofSeconds(15)).ignoreExceptions()
          .until(() -> as(next).send(text("with the new key", "rota")) != null);
      assertThat(inbox.take(1)).extracting(Inbox.Received::text)
          .containsExactly("with the new key");

      Files.writeString(KEY_FILE, before + "ops not-a-hash *\n"); // refused: the keys stay
      Thread.sleep(ApiKeyFile.CHECK_INTERVAL.toMillis() * 2);
      as(next).send(text("still in force", "rota"));
      assertThat(inbox.take(1)).extracting(Inbox.Received::text).containsExactly("still in force");

      Files.writeString(KEY_FILE, before); // the new key revoked
      await().atMost(Duration.ofSeconds(15)).until(() -> {
        try {
          as(next).send(text("revoked?", "rota"));
          return false;
        } catch (StatusRuntimeException e) {
          return e.getStatus().getCode() == Status.Code.UNAUTHENTICATED;
        }
      });
      as(OPS_KEY).send(text("the old key works", "rota"));
    } finally {
      Files.writeString(KEY_FILE, before);
    }
    // the sends the new key made before its revocation took hold come first, then the old key's
    String text;
    do {
      text = inbox.take(1).get(0).text();
    } while (text.equals("revoked?"));
    assertThat(text).isEqualTo("the old key works");
  }

  private static SendServiceGrpc.SendServiceBlockingStub as(String key) {
    return cluster.send().withInterceptors(SendApiKey.interceptor(key));
  }

  private static SendServiceGrpc.SendServiceBlockingStub withAuthorization(String value) {
    Metadata headers = new Metadata();
    headers.put(ApiKey.AUTHORIZATION, value);
    return cluster.send().withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  private static SendRequest text(String text, String... users) {
    return SendRequest.newBuilder()
        .addAllUserIds(List.of(users))
        .setPayload(ByteString.copyFromUtf8(text))
        .setContentType("text/plain")
        .build();
  }

  private static void assertUnauthenticated(ThrowingCallable call, String description) {
    assertThatThrownBy(call).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(e.getStatus().getDescription()).startsWith(description);
    });
  }

  private static double coreMetric(String series) throws Exception {
    double value = TestCluster.metric(cluster.coreMetrics(), series);
    return Double.isNaN(value) ? 0 : value;
  }

  private static Path keyFile() {
    try {
      Path file = Files.createTempFile("send-api-keys", "");
      file.toFile().deleteOnExit();
      Files.writeString(file, "ops " + ApiKey.hash(OPS_KEY) + " *\n"
          + "shop " + ApiKey.hash(SHOP_KEY) + " shop-*,carol\n");
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
