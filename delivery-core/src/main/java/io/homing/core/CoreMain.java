package io.homing.core;

import io.homing.api.Topics;
import io.homing.core.send.SendCredentials;
import io.homing.core.send.SenderTokens;
import io.homing.runtime.Lifecycle;
import io.homing.runtime.auth.TokenSettings;
import io.homing.runtime.cli.ConfigOptions;
import io.homing.runtime.cli.ConnectionOptions;
import io.homing.runtime.cli.MetricsTlsOptions;
import io.homing.runtime.cli.ServiceCommand;
import io.homing.runtime.tls.ServerTls;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Help.Visibility;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code java -jar homing-core.jar}: runs one delivery-core instance until SIGTERM or Ctrl-C. */
@Command(
    name = "homing-core",
    mixinStandardHelpOptions = true,
    description = "Applies outbound messages and delivery events, routes messages to edges, "
        + "serves the Send API.",
    showDefaultValues = true)
public final class CoreMain implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--instance-id", defaultValue = "${env:HOMING_INSTANCE_ID:-core-1}",
      description = "Id of this instance (env HOMING_INSTANCE_ID).")
  String instanceId;

  @Option(names = "--host", defaultValue = "${env:HOMING_HOST:-127.0.0.1}",
      description = "Address the Send API listens on (env HOMING_HOST).")
  String host;

  @Option(names = "--send-port", defaultValue = "${env:HOMING_SEND_PORT:-7400}",
      description = "Port of the public Send API (env HOMING_SEND_PORT).")
  int sendPort;

  @Option(names = "--metrics-port", defaultValue = "${env:HOMING_METRICS_PORT:-7401}",
      description = "Port of /metrics (Prometheus) and /health (env HOMING_METRICS_PORT).")
  int metricsPort;

  @Mixin ConnectionOptions connections;

  @Mixin MetricsTlsOptions metricsTls;

  @Mixin ConfigOptions configFile;

  @Option(names = "--internal-tls-server-name",
      defaultValue = "${env:HOMING_INTERNAL_TLS_SERVER_NAME:-}",
      description = "The name every edge's certificate must hold, in place of the host of its "
          + "advertised address; default: that host (env HOMING_INTERNAL_TLS_SERVER_NAME).")
  String internalTlsServerName;

  @Option(names = "--topic-prefix", defaultValue = "${env:HOMING_TOPIC_PREFIX:-}",
      description = "Prefix of the Kafka topic names (env HOMING_TOPIC_PREFIX).")
  String topicPrefix;

  @Option(names = "--group-id", defaultValue = "${env:HOMING_GROUP_ID:-homing-core}",
      description = "Consumer group shared by all core instances (env HOMING_GROUP_ID).")
  String groupId;

  @Option(names = "--partitions", defaultValue = "${env:HOMING_PARTITIONS:-8}",
      description = "Partitions of the topics when this instance creates them "
          + "(env HOMING_PARTITIONS).")
  int partitions;

  @Option(names = "--replication-factor", defaultValue = "${env:HOMING_REPLICATION_FACTOR:-1}",
      description = "Replication factor of the topics when created "
          + "(env HOMING_REPLICATION_FACTOR).")
  short replicationFactor;

  @Option(names = "--key-prefix", defaultValue = "${env:HOMING_KEY_PREFIX:-homing:}",
      description = "Prefix of every Redis key, as on the edges (env HOMING_KEY_PREFIX).")
  String keyPrefix;

  @Option(names = "--data-dir", defaultValue = "${env:HOMING_DATA_DIR:-data/core}",
      description = "Folder of the offline store (env HOMING_DATA_DIR).")
  Path dataDir;

  @Option(names = "--max-payload-bytes", defaultValue = "${env:HOMING_MAX_PAYLOAD_BYTES:-65536}",
      description = "Largest payload the Send API accepts (env HOMING_MAX_PAYLOAD_BYTES).")
  int maxPayloadBytes;

  @Option(names = "--send-api-keys", defaultValue = "${env:HOMING_SEND_API_KEYS:-}",
      description = "File of the senders that may call the Send API, with their API keys' "
          + "SHA-256 and the users each may send to (docs/security.md), read again within 2 s of "
          + "a change; unset: anyone may call (env HOMING_SEND_API_KEYS).")
  String sendApiKeys;

  @Option(names = "--send-jwt-secret", defaultValue = "${env:HOMING_SEND_JWT_SECRET:-}",
      showDefaultValue = Visibility.NEVER,
      description = "Shared secret (>= 32 characters) of HS256 sender tokens, JWTs a caller may "
          + "send in place of an API key (docs/security.md); default none: HS256 sender tokens "
          + "are refused (env HOMING_SEND_JWT_SECRET).")
  String sendJwtSecret;

  @Option(names = "--send-jwks-url", defaultValue = "${env:HOMING_SEND_JWKS_URL:-}",
      description = "JWK set URL of the public keys of RS256 and ES256 sender tokens; default "
          + "none: those are refused (env HOMING_SEND_JWKS_URL).")
  String sendJwksUrl;

  @Option(names = "--send-jwt-issuer", defaultValue = "${env:HOMING_SEND_JWT_ISSUER:-}",
      description = "When set, a sender token's iss must equal it (env HOMING_SEND_JWT_ISSUER).")
  String sendJwtIssuer;

  @Option(names = "--send-jwt-audience",
      defaultValue = "${env:HOMING_SEND_JWT_AUDIENCE:-" + SenderTokens.DEFAULT_AUDIENCE + "}",
      description = "What a sender token's aud must contain, so that tokens for other services "
          + "are refused; empty: not checked (env HOMING_SEND_JWT_AUDIENCE).")
  String sendJwtAudience;

  @Option(names = "--send-tls-cert", defaultValue = "${env:HOMING_SEND_TLS_CERT:-}",
      description = "PEM certificate chain of the Send API's TLS; with --send-tls-key, the Send "
          + "API takes TLS only; read again every minute, once it and its key both changed "
          + "(env HOMING_SEND_TLS_CERT).")
  String sendTlsCert;

  @Option(names = "--send-tls-key", defaultValue = "${env:HOMING_SEND_TLS_KEY:-}",
      description = "PKCS#8 PEM private key of --send-tls-cert (env HOMING_SEND_TLS_KEY).")
  String sendTlsKey;

  @Option(names = "--send-tls-client-ca", defaultValue = "${env:HOMING_SEND_TLS_CLIENT_CA:-}",
      description = "PEM CA certificates of the client certificates callers may authenticate "
          + "with (mutual TLS); a cert line of --send-api-keys names each sender "
          + "(env HOMING_SEND_TLS_CLIENT_CA).")
  String sendTlsClientCa;

  @Option(names = "--default-ttl", defaultValue = "${env:HOMING_DEFAULT_TTL:-P7D}",
      description = "How long a message without TTL waits for its recipient "
          + "(env HOMING_DEFAULT_TTL).")
  Duration defaultTtl;

  @Option(names = "--ack-timeout", defaultValue = "${env:HOMING_ACK_TIMEOUT:-PT10S}",
      description = "How long a device may leave a message unacked before core resends it; "
          + "doubled per resend (env HOMING_ACK_TIMEOUT).")
  Duration ackTimeout;

  @Option(names = "--max-redeliveries", defaultValue = "${env:HOMING_MAX_REDELIVERIES:-5}",
      description = "Resends of one message before core closes the device's connection "
          + "(env HOMING_MAX_REDELIVERIES).")
  int maxRedeliveries;

  @Option(names = "--inflight-window", defaultValue = "${env:HOMING_INFLIGHT_WINDOW:-1000}",
      description = "Most messages sent to one device and not yet acked "
          + "(env HOMING_INFLIGHT_WINDOW).")
  int inflightWindow;

  @Option(names = "--dedup-window", defaultValue = "${env:HOMING_DEDUP_WINDOW:-PT10M}",
      description = "How long a message id stays an idempotency key for its user; PT0S turns "
          + "deduplication off (env HOMING_DEDUP_WINDOW).")
  Duration dedupWindow;

  @Option(names = "--max-queued-messages",
      defaultValue = "${env:HOMING_MAX_QUEUED_MESSAGES:-10000}",
      description = "Most messages queued for one user (env HOMING_MAX_QUEUED_MESSAGES).")
  long maxQueuedMessages;

  @Option(names = "--max-queued-bytes", defaultValue = "${env:HOMING_MAX_QUEUED_BYTES:-67108864}",
      description = "Most bytes queued for one user (env HOMING_MAX_QUEUED_BYTES).")
  long maxQueuedBytes;

  @Option(names = "--when-queue-full", defaultValue = "${env:HOMING_WHEN_QUEUE_FULL:-REJECT}",
      description = "REJECT new messages (Send API: RESOURCE_EXHAUSTED) or DROP_OLDEST "
          + "(env HOMING_WHEN_QUEUE_FULL).")
  QueueLimits.WhenFull whenQueueFull;

  @Option(names = "--max-devices", defaultValue = "${env:HOMING_MAX_DEVICES:-16}",
      description = "Most devices kept per user; the least recently seen is forgotten "
          + "(env HOMING_MAX_DEVICES).")
  int maxDevices;

  @Option(names = "--device-retention", defaultValue = "${env:HOMING_DEVICE_RETENTION:-P30D}",
      description = "A device away this long stops holding messages back "
          + "(env HOMING_DEVICE_RETENTION).")
  Duration deviceRetention;

  @Option(names = "--pipeline-threads", defaultValue = "${env:HOMING_PIPELINE_THREADS:-1}",
      description = "Pipelines of this instance, each a consumer with its share of the "
          + "partitions (env HOMING_PIPELINE_THREADS).")
  int pipelineThreads;

  @Option(names = "--commit-interval", defaultValue = "${env:HOMING_COMMIT_INTERVAL:-PT0.1S}",
      description = "How long applied changes wait at most before they are committed to the "
          + "changelog with the consumer offsets; delivery never waits for it "
          + "(env HOMING_COMMIT_INTERVAL).")
  Duration commitInterval;

  @Option(names = "--commit-max-changes",
      defaultValue = "${env:HOMING_COMMIT_MAX_CHANGES:-100000}",
      description = "Most uncommitted changes a pipeline holds; reaching it commits early "
          + "(env HOMING_COMMIT_MAX_CHANGES).")
  int commitMaxChanges;

  @Option(names = "--max-send-calls-per-second",
      defaultValue = "${env:HOMING_MAX_SEND_CALLS_PER_SECOND:-10000}",
      description = "Send API calls one sender may make per second on this instance; above it "
          + "and its burst a call gets RESOURCE_EXHAUSTED (env HOMING_MAX_SEND_CALLS_PER_SECOND).")
  int sendCallsPerSecond;

  @Option(names = "--send-call-burst", defaultValue = "${env:HOMING_SEND_CALL_BURST:-20000}",
      description = "Send API calls one sender may make at once above "
          + "--max-send-calls-per-second (env HOMING_SEND_CALL_BURST).")
  int sendCallBurst;

  @Option(names = "--max-send-recipients-per-second",
      defaultValue = "${env:HOMING_MAX_SEND_RECIPIENTS_PER_SECOND:-100000}",
      description = "Recipients one sender may name per second on this instance, over all its "
          + "calls (env HOMING_MAX_SEND_RECIPIENTS_PER_SECOND).")
  int sendRecipientsPerSecond;

  @Option(names = "--send-recipient-burst",
      defaultValue = "${env:HOMING_SEND_RECIPIENT_BURST:-200000}",
      description = "Recipients one sender may name at once above "
          + "--max-send-recipients-per-second, >= 1000 (env HOMING_SEND_RECIPIENT_BURST).")
  int sendRecipientBurst;

  @Option(names = "--receipts-key", defaultValue = "${env:HOMING_RECEIPTS_KEY:-MESSAGE_ID}",
      description = "The record key of delivery receipts in delivery-receipts: MESSAGE_ID, or "
          + "SENDER (the message's sender; its id when it names none) "
          + "(env HOMING_RECEIPTS_KEY; default: ${DEFAULT-VALUE}).")
  ReceiptPolicy.Key receiptsKey;

  @Option(names = "--receipts-senders", defaultValue = "${env:HOMING_RECEIPTS_SENDERS:-}",
      split = ",", description = "Send API callers (by name, comma-separated; * for all) every "
          + "message of which gets delivery receipts, as if it asked (env "
          + "HOMING_RECEIPTS_SENDERS; default: none).")
  List<String> receiptsSenders;

  @Option(names = "--internal-port", defaultValue = "${env:HOMING_INTERNAL_PORT:-7403}",
      description = "Port other cores call this one on, to forward a GetStatus to the owner of "
          + "the user's partition; mutual TLS with the --internal-tls-* options "
          + "(env HOMING_INTERNAL_PORT).")
  int internalPort;

  @Option(names = "--advertised-internal", defaultValue = "${env:HOMING_ADVERTISED_INTERNAL:-}",
      description = "host:port other cores dial to reach --internal-port; default "
          + "host:internal-port (env HOMING_ADVERTISED_INTERNAL).")
  String advertisedInternal;

  @Option(names = "--admin-host", defaultValue = "${env:HOMING_ADMIN_HOST:-127.0.0.1}",
      description = "Address the admin API listens on; loopback unless operators reach it from "
          + "elsewhere (env HOMING_ADMIN_HOST).")
  String adminHost;

  @Option(names = "--admin-port", defaultValue = "${env:HOMING_ADMIN_PORT:-7404}",
      description = "Port of the admin API (homing-admin, docs/operations.md#admin-api); it "
          + "serves the Send API's TLS when --send-tls-cert is set (env HOMING_ADMIN_PORT).")
  int adminPort;

  @Option(names = "--admin-api-keys", defaultValue = "${env:HOMING_ADMIN_API_KEYS:-}",
      description = "File of the operators' admin API keys, in the format of --send-api-keys "
          + "(a key's user patterns bound the users it may act on), read again within 2 s of a "
          + "change; unset: the admin API refuses every call (env HOMING_ADMIN_API_KEYS).")
  String adminApiKeys;

  @Option(names = "--notify-delay", defaultValue = "${env:HOMING_NOTIFY_DELAY:-PT2S}",
      description = "How long after a message is queued for a user none of whose devices is "
          + "connected core waits before asking the notifier to notify the user's devices with a "
          + "push target; PT0S turns notifications off (env HOMING_NOTIFY_DELAY; default: "
          + "${DEFAULT-VALUE}).")
  Duration notifyDelay;

  @Option(names = "--notify-interval", defaultValue = "${env:HOMING_NOTIFY_INTERVAL:-PT30S}",
      description = "The least time between two notifications of one user; messages queued "
          + "sooner are collapsed into the next (env HOMING_NOTIFY_INTERVAL; default: "
          + "${DEFAULT-VALUE}).")
  Duration notifyInterval;

  CoreConfig config() {
    return new CoreConfig(
        instanceId,
        new InetSocketAddress(host, sendPort),
        new InetSocketAddress(host, metricsPort),
        new InetSocketAddress(host, internalPort),
        advertisedInternal,
        connections.kafka(),
        new Topics(topicPrefix),
        groupId,
        partitions,
        replicationFactor,
        connections.redis(),
        keyPrefix,
        dataDir,
        maxPayloadBytes,
        sendCredentials(),
        defaultTtl,
        new DeliveryPolicy(ackTimeout, maxRedeliveries, inflightWindow, dedupWindow),
        new QueueLimits(maxQueuedMessages, maxQueuedBytes, whenQueueFull),
        new DeviceLimits(maxDevices, deviceRetention),
        new CommitPolicy(pipelineThreads, commitInterval, commitMaxChanges),
        new SendLimits(sendCallsPerSecond, sendCallBurst, sendRecipientsPerSecond,
            sendRecipientBurst),
        new ReceiptPolicy(receiptsKey,
            receiptsSenders == null ? List.of() : receiptsSenders.stream()
                .map(String::trim).filter(s -> !s.isEmpty()).toList()),
        new NotifyPolicy(notifyDelay, notifyInterval),
        new AdminApi(new InetSocketAddress(adminHost, adminPort),
            adminApiKeys.isBlank() ? Optional.empty() : Optional.of(Path.of(adminApiKeys))),
        connections.internalTls(optional(internalTlsServerName)),
        metricsTls.metricsTls());
  }

  private SendCredentials sendCredentials() {
    Optional<TokenSettings> tokens = sendJwtSecret.isEmpty() && sendJwksUrl.isEmpty()
        ? Optional.empty()
        : Optional.of(new TokenSettings(
            optional(sendJwtSecret), optional(sendJwksUrl).map(URI::create),
            TokenSettings.DEFAULT_JWKS_REFRESH, optional(sendJwtIssuer),
            optional(sendJwtAudience)));
    Optional<ServerTls> tls =
        ServerTls.fromOptions("send-tls", sendTlsCert, sendTlsKey, sendTlsClientCa);
    return new SendCredentials(
        sendApiKeys.isEmpty() ? null : Path.of(sendApiKeys), tokens, tls);
  }

  private static Optional<String> optional(String value) {
    return value.isEmpty() ? Optional.empty() : Optional.of(value);
  }

  @Override
  public Integer call() throws InterruptedException {
    CoreConfig config;
    try {
      config = config();
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    CoreServer server = new CoreServer(config).start();
    return Lifecycle.runUntilStopped("core", server, server.failed());
  }

  public static void main(String[] args) {
    System.exit(ServiceCommand.run(new CoreMain(), args));
  }
}
