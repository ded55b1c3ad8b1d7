package io.homing.core.send;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.homing.api.ApiKey;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ApiKeysTest {
  @TempDir Path dir;

  @Test
  void findsTheSenderOfEachKeyAndNoneForAnUnknownOne() throws IOException {
    String billing = ApiKey.generate();
    String billingNext = ApiKey.generate();
    String ops = ApiKey.generate();
    ApiKeys keys = ApiKeys.read(file("""
        # senders
        billing %s billing-*,shop-*
        billing %s billing-*,shop-*

        ops %s *
        """.formatted(ApiKey.hash(billing), ApiKey.hash(billingNext).toUpperCase(),
            ApiKey.hash(ops))));

    assertThat(keys.size()).isEqualTo(3);
    assertThat(keys.sender(billing).name()).isEqualTo("billing");
    assertThat(keys.sender(billingNext).recipients()).containsExactly("billing-*", "shop-*");
    assertThat(keys.sender(ops).mayReach("anyone")).isTrue();
    assertThat(keys.sender(ApiKey.generate())).isNull();
    assertThat(keys.sender(ApiKey.hash(ops))).as("the hash is no key").isNull();
  }

  @Test
  void findsTheSenderOfACertificateByAnyOfItsNames() throws IOException {
    ApiKeys keys = ApiKeys.read(file("""
        crm cert crm-*
        spiffe://homing.example/billing cert billing-*
        """));

    assertThat(keys.size()).isEqualTo(2);
    assertThat(keys.certificateSender(List.of("crm")).recipients()).containsExactly("crm-*");
    assertThat(keys.certificateSender(
        List.of("billing.internal", "spiffe://homing.example/billing")).name())
        .isEqualTo("spiffe://homing.example/billing");
    assertThat(keys.certificateSender(List.of("ops"))).isNull();
    assertThat(keys.sender("cert")).as("'cert' is no key").isNull();
  }

  @Test
  void generatedKeysAreDistinctAndRecognizable() {
    String key = ApiKey.generate();

    assertThat(key).startsWith("hk_").hasSize(3 + 43).isNotEqualTo(ApiKey.generate());
    assertThat(ApiKey.hash("password"))
        .isEqualTo("5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8");
  }

  @Test
  void refusesAFileItCannotUseNamingTheLine() throws IOException {
    String hash = ApiKey.hash("k");
    assertThatThrownBy(() -> ApiKeys.read(file("ops " + hash + "\n")))
        .hasMessageContaining(":1: expected: name sha256-hex|cert recipients");
    assertThatThrownBy(() -> ApiKeys.read(file("# x\nops k *\n")))
        .hasMessageContaining(":2: 'k' (expected: the key's SHA-256, 64 hex digits, or cert)");
    assertThatThrownBy(() -> ApiKeys.read(file("crm cert crm-*\ncrm cert *\n")))
        .hasMessageContaining(":2: a second cert line for sender crm");
    assertThatThrownBy(() -> ApiKeys.read(file("ops " + hash + " a,,b\n")))
        .hasMessageContaining(":1: recipients 'a,,b' (expected: comma-separated user ids");
    assertThatThrownBy(() -> ApiKeys.read(file("ops " + hash + " a,\n")))
        .hasMessageContaining("recipients 'a,'");
    assertThatThrownBy(() -> ApiKeys.read(file("a " + hash + " *\nb " + hash + " *\n")))
        .hasMessageContaining(":2: the same key as an earlier line");
    assertThatThrownBy(() -> ApiKeys.read(file("# nobody\n")))
        .hasMessageContaining("no sender");
  }

  @Test
  void theCommandLinesSenderCheckRefusesWhatTheFileCouldNotHold() {
    assertThat(ApiKey.invalidSender("billing", "shop-*,alice")).isNull();
    assertThat(ApiKey.invalidSender("#ops", "*")).contains("not starting with #");
    assertThat(ApiKey.invalidSender("a b", "*")).contains("no spaces");
    assertThat(ApiKey.invalidSender("ops", ",a")).contains("none empty");
    assertThat(ApiKey.invalidSender("ops", "")).contains("none empty");
  }

  @Test
  void aSenderReachesExactIdsAndPrefixes() {
    Sender sender = new Sender("s", List.of("shop-*", "alice"));

    assertThat(sender.mayReach("shop-42")).isTrue();
    assertThat(sender.mayReach("shop-")).isTrue();
    assertThat(sender.mayReach("alice")).isTrue();
    assertThat(sender.mayReach("alice2")).isFalse();
    assertThat(sender.mayReach("shop")).isFalse();
    assertThat(sender.mayReach("bob")).isFalse();
  }

  private Path file(String text) throws IOException {
    Path file = Files.createTempFile(dir, "keys", "");
    Files.writeString(file, text);
    return file;
  }
}
