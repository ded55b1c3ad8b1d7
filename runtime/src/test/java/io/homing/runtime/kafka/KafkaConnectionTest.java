package io.homing.runtime.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KafkaConnectionTest {
  private static final String JAAS = "org.apache.kafka.common.security.scram.ScramLoginModule "
      + "required username=\"homing\" password=\"s3cret\";";

  @Test
  void passesTheSecurityPropertiesOfAFileAndTheAssignmentsToEveryClient(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("client.properties");
    Files.writeString(file, String.join("\n",
        "security.protocol=SASL_SSL",
        "sasl.mechanism=SCRAM-SHA-512",
        "sasl.jaas.config=" + JAAS.replace("\"", "\\\""),
        "ssl.truststore.type=PEM"));

    KafkaConnection kafka = KafkaConnection.load("k1:9093,k2:9093", Optional.of(file),
        List.of("ssl.truststore.location=/etc/ca.pem", "sasl.mechanism=SCRAM-SHA-256"));

    assertThat(kafka.clientConfig()).containsExactlyInAnyOrderEntriesOf(Map.of(
        "bootstrap.servers", "k1:9093,k2:9093",
        "security.protocol", "SASL_SSL",
        "sasl.mechanism", "SCRAM-SHA-256",
        "sasl.jaas.config", JAAS,
        "ssl.truststore.type", "PEM",
        "ssl.truststore.location", "/etc/ca.pem"));
    assertThat(kafka.protocol()).isEqualTo("SASL_SSL");
  }

  @Test
  void refusesPropertiesHomingSetsItself() {
    assertThatThrownBy(() -> KafkaConnection.load("k:9092", Optional.empty(),
            List.of("security.protocol=SSL", "enable.idempotence=false")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Kafka property 'enable.idempotence' (expected: security.*, ssl.* or sasl.*; "
            + "Homing sets the other client properties itself)");
  }

  @Test
  void refusesAnAssignmentWithoutAName() {
    assertThatThrownBy(() -> KafkaConnection.load("k:9092", Optional.empty(), List.of("=SSL")))
        .hasMessage("Kafka property '=SSL' (expected: name=value)");
    assertThatThrownBy(() -> KafkaConnection.load("k:9092", Optional.empty(), List.of("SSL")))
        .hasMessage("Kafka property 'SSL' (expected: name=value)");
  }

  @Test
  void namesAFileItCannotRead(@TempDir Path dir) {
    Path missing = dir.resolve("missing.properties");

    assertThatThrownBy(() -> KafkaConnection.load("k:9092", Optional.of(missing), List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("cannot read the Kafka client properties " + missing);
  }

  @Test
  void printsNoValueOfAProperty() {
    KafkaConnection kafka = new KafkaConnection("k:9093",
        Map.of("security.protocol", "SASL_SSL", "sasl.jaas.config", JAAS));

    assertThat(kafka.toString())
        .isEqualTo("k:9093 (SASL_SSL, properties [sasl.jaas.config, security.protocol])")
        .doesNotContain("s3cret");
  }

  @Test
  void isPlaintextWithoutProperties() {
    KafkaConnection kafka = KafkaConnection.plaintext("k:9092");

    assertThat(kafka.protocol()).isEqualTo("PLAINTEXT");
    assertThat(kafka.clientConfig()).containsExactly(Map.entry("bootstrap.servers", "k:9092"));
  }
}
