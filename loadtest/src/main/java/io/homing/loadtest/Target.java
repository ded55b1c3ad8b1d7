package io.homing.loadtest;

import io.homing.cli.SendApiOptions;
import io.homing.runtime.cli.KafkaOptions;
import io.homing.runtime.kafka.KafkaConnection;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import picocli.CommandLine.Help.Visibility;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Where the deployment under test is, and how to talk to it. Defaults: deploy/local. */
final class Target {
  @Option(names = "--send-api", defaultValue = "127.0.0.1:7400",
      description = "Send API address (host:port).")
  String sendApi;

  @Option(names = "--ws", split = ",", paramLabel = "<url>",
      defaultValue = "ws://127.0.0.1:7410/ws,ws://127.0.0.1:7411/ws",
      description = "Edge WebSocket URLs, comma-separated; clients are spread over them.")
  List<URI> edges;

  /** The deployment's Kafka, with the load generator's client security. */
  @Mixin KafkaOptions kafka;

  @Option(names = "--ca", description = "PEM CA certificates the edges' certificates must chain "
      + "to, for wss:// URLs; default: the JDK's trust store.")
  Path ca;

  @Option(names = "--topic-prefix", defaultValue = "",
      description = "The deployment's topic prefix.")
  String topicPrefix;

  @Option(names = "--core-group", defaultValue = "homing-core",
      description = "delivery-core's consumer group, to wait for it to catch up.")
  String coreGroup;

  // Not shown in --help: it may come from the environment.
  @Option(names = "--secret", showDefaultValue = Visibility.NEVER,
      defaultValue = "${env:HOMING_JWT_SECRET:-homing-dev-secret-do-not-use-in-production}",
      description = "HS256 secret the edges verify tokens with (env HOMING_JWT_SECRET); default "
          + "the local stack's development secret.")
  String secret;

  /** The Send API's credentials and TLS, for --via send-api. */
  @Mixin SendApiOptions sendApiOptions;

  @Option(names = "--via", defaultValue = "kafka",
      description = "Publish through: kafka (a producer to outbound) or send-api.")
  String via;

  @Option(names = "--receipts",
      description = "Ask for delivery receipts on every message Homing is sent.")
  boolean receipts;

  @Option(names = "--payload-bytes", defaultValue = "256",
      description = "Payload size in bytes; never below the 20-byte header.")
  int payloadBytes;

  @Option(names = "--sources", defaultValue = "8",
      description = "Loopback source addresses (127.0.0.1..) to spread connections over.")
  int sources;

  @Option(names = "--out", defaultValue = "loadtest/reports", description = "Report folder.")
  Path out;

  final String runId = UUID.randomUUID().toString().substring(0, 8);
  private int scenarios;

  /**
   * Fresh user ids for one scenario: never those of an earlier scenario of the run, whose
   * messages still queued would otherwise arrive in this one and count against it.
   */
  String[] users(int count) {
    int scenario = ++scenarios;
    String[] ids = new String[count];
    for (int i = 0; i < count; i++) {
      ids[i] = "lt-" + runId + "-" + scenario + "-" + i;
    }
    return ids;
  }

  /** How the load generator's Kafka clients reach Kafka. */
  KafkaConnection kafkaConnection() {
    return kafka.kafka();
  }

  Sink homingSink() {
    return switch (via) {
      case "kafka" -> new KafkaSink(kafkaConnection(), topicPrefix + "outbound", false,
          receipts);
      case "send-api" -> new SendApiSink(sendApi, sendApiOptions, receipts);
      default -> throw new IllegalArgumentException("--via: " + via + " (expected: kafka, send-api)");
    };
  }
}
