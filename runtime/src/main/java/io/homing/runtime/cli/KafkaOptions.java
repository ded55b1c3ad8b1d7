package io.homing.runtime.cli;

import io.homing.runtime.kafka.KafkaConnection;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * How a process reaches Kafka, with its clients' security: a picocli mixin of core, the edges
 * (through {@link ConnectionOptions}) and the load generator.
 */
public final class KafkaOptions {
  @Option(names = "--kafka", defaultValue = "${env:KAFKA_BOOTSTRAP:-127.0.0.1:9092}",
      description = "Kafka bootstrap servers (env KAFKA_BOOTSTRAP).")
  String bootstrap;

  @Option(names = "--kafka-config", defaultValue = "${env:HOMING_KAFKA_CONFIG:-}",
      description = "Properties file of the Kafka clients' security: security.protocol and any "
          + "ssl.* and sasl.* property, as for Kafka's own tools (env HOMING_KAFKA_CONFIG).")
  String config;

  @Option(names = "--kafka-property", paramLabel = "NAME=VALUE",
      description = "One Kafka client security property (security.*, ssl.*, sasl.*), over "
          + "--kafka-config; repeatable. A secret here shows in the process list: keep "
          + "passwords in the file.")
  List<String> properties = new ArrayList<>();

  /** The bootstrap servers, as given. */
  public String bootstrap() {
    return bootstrap;
  }

  /** How to reach Kafka; fails with IllegalArgumentException on a property it cannot use. */
  public KafkaConnection kafka() {
    return KafkaConnection.load(bootstrap,
        config.isBlank() ? Optional.empty() : Optional.of(Path.of(config)), properties);
  }
}
