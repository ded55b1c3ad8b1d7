package io.homing.notifier;

import io.homing.api.Topics;
import io.homing.api.v1.Notification;
import io.homing.notifier.push.ApnsProvider;
import io.homing.notifier.push.FcmProvider;
import io.homing.notifier.push.PushProvider;
import io.homing.notifier.push.WebhookProvider;
import io.homing.runtime.Lifecycle;
import io.homing.runtime.MetricsEndpoint;
import io.homing.runtime.cli.KafkaOptions;
import io.homing.runtime.cli.ConfigOptions;
import io.homing.runtime.cli.MetricsTlsOptions;
import io.homing.runtime.cli.ServiceCommand;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Help.Visibility;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code java -jar homing-notifier.jar}: sends the push notifications delivery-core asks for,
 * through the providers configured (docs/push.md), until SIGTERM or Ctrl-C.
 */
@Command(
    name = "homing-notifier",
    mixinStandardHelpOptions = true,
    description = "Sends the push notifications (APNs, FCM, webhooks) delivery-core asks for on "
        + "the topic notifications. Configure at least one provider.",
    showDefaultValues = true)
public final class NotifierMain implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--instance-id", defaultValue = "${env:HOMING_INSTANCE_ID:-notifier-1}",
      description = "This instance's id: its Kafka client id, and the node_id of the events it "
          + "writes (env HOMING_INSTANCE_ID).")
  String instanceId;

  @Option(names = "--host", defaultValue = "${env:HOMING_HOST:-127.0.0.1}",
      description = "Address /metrics listens on (env HOMING_HOST).")
  String host;

  @Option(names = "--metrics-port", defaultValue = "${env:HOMING_METRICS_PORT:-7402}",
      description = "Port of /metrics (Prometheus) and /health (env HOMING_METRICS_PORT).")
  int metricsPort;

  @Mixin KafkaOptions kafka;

  @Mixin MetricsTlsOptions metricsTls;

  @Mixin ConfigOptions configFile;

  @Option(names = "--topic-prefix", defaultValue = "${env:HOMING_TOPIC_PREFIX:-}",
      description = "Prefix of the Kafka topic names (env HOMING_TOPIC_PREFIX).")
  String topicPrefix;

  @Option(names = "--group-id", defaultValue = "${env:HOMING_NOTIFIER_GROUP:-homing-notifier}",
      description = "Consumer group the notifier instances share (env HOMING_NOTIFIER_GROUP).")
  String groupId;

  // ---- webhooks ----

  @Option(names = "--webhook-secret", split = ",", showDefaultValue = Visibility.NEVER,
      defaultValue = "${env:HOMING_WEBHOOK_SECRETS:-}",
      description = "Secrets (whsec_<base64>, comma-separated) webhook requests are signed with, "
          + "each of them: a receiver moves to a new one while the old still works. Turns "
          + "webhooks on (env HOMING_WEBHOOK_SECRETS).")
  List<String> webhookSecrets;

  @Option(names = "--push-webhook-allow", split = ",",
      defaultValue = "${env:HOMING_PUSH_WEBHOOK_ALLOW:-}",
      description = "URL prefixes a webhook target must start with, as the edges' "
          + "(env HOMING_PUSH_WEBHOOK_ALLOW).")
  List<String> webhookAllow;

  @Option(names = "--webhook-timeout", defaultValue = "${env:HOMING_WEBHOOK_TIMEOUT:-PT10S}",
      description = "How long a webhook may take to connect, then to answer "
          + "(env HOMING_WEBHOOK_TIMEOUT).")
  Duration webhookTimeout;

  // ---- FCM ----

  @Option(names = "--fcm-service-account",
      defaultValue = "${env:HOMING_FCM_SERVICE_ACCOUNT:-}",
      description = "The Firebase project's service account key (JSON). Turns FCM on "
          + "(env HOMING_FCM_SERVICE_ACCOUNT).")
  String fcmServiceAccount;

  @Option(names = "--fcm-url", defaultValue = "${env:HOMING_FCM_URL:-https://fcm.googleapis.com}",
      description = "FCM's base URL (env HOMING_FCM_URL).")
  URI fcmUrl;

  @Option(names = "--fcm-token-url", defaultValue = "${env:HOMING_FCM_TOKEN_URL:-}",
      description = "Where OAuth2 access tokens are got; default: the service account's "
          + "token_uri (env HOMING_FCM_TOKEN_URL).")
  String fcmTokenUrl;

  // ---- APNs ----

  @Option(names = "--apns-key", defaultValue = "${env:HOMING_APNS_KEY:-}",
      description = "The APNs signing key (.p8) for token authentication; needs --apns-team-id "
          + "and --apns-key-id. Turns APNs on (env HOMING_APNS_KEY).")
  String apnsKey;

  @Option(names = "--apns-team-id", defaultValue = "${env:HOMING_APNS_TEAM_ID:-}",
      description = "The Apple developer team id (env HOMING_APNS_TEAM_ID).")
  String apnsTeamId;

  @Option(names = "--apns-key-id", defaultValue = "${env:HOMING_APNS_KEY_ID:-}",
      description = "The id of the --apns-key (env HOMING_APNS_KEY_ID).")
  String apnsKeyId;

  @Option(names = "--apns-cert", defaultValue = "${env:HOMING_APNS_CERT:-}",
      description = "The app's push certificate and key (.p12), instead of --apns-key "
          + "(env HOMING_APNS_CERT).")
  String apnsCert;

  @Option(names = "--apns-cert-password", showDefaultValue = Visibility.NEVER,
      defaultValue = "${env:HOMING_APNS_CERT_PASSWORD:-}",
      description = "The password of --apns-cert (env HOMING_APNS_CERT_PASSWORD).")
  String apnsCertPassword;

  @Option(names = "--apns-topic", defaultValue = "${env:HOMING_APNS_TOPIC:-}",
      description = "The app's bundle id, for targets that name no topic "
          + "(env HOMING_APNS_TOPIC).")
  String apnsTopic;

  @Option(names = "--apns-server", defaultValue = "${env:HOMING_APNS_SERVER:-}",
      description = "host:port of APNs' production environment; default api.push.apple.com:443 "
          + "(env HOMING_APNS_SERVER).")
  String apnsServer;

  @Option(names = "--apns-sandbox-server", defaultValue = "${env:HOMING_APNS_SANDBOX_SERVER:-}",
      description = "host:port of APNs' development environment; default "
          + "api.sandbox.push.apple.com:443 (env HOMING_APNS_SANDBOX_SERVER).")
  String apnsSandboxServer;

  @Option(names = "--apns-ca", defaultValue = "${env:HOMING_APNS_CA:-}",
      description = "PEM file of the only CA the APNs servers' certificates may chain to "
          + "(tests); default: the JDK's trust store (env HOMING_APNS_CA).")
  String apnsCa;

  @Option(names = "--apns-connections", defaultValue = "${env:HOMING_APNS_CONNECTIONS:-2}",
      description = "Connections per APNs environment (env HOMING_APNS_CONNECTIONS).")
  int apnsConnections;

  // ---- what notifications say, and retries ----

  @Option(names = "--default-mode", defaultValue = "${env:HOMING_NOTIFY_DEFAULT_MODE:-ALERT}",
      description = "The mode of a notification whose message set none: ALERT or SILENT "
          + "(env HOMING_NOTIFY_DEFAULT_MODE).")
  Notification.Mode defaultMode;

  @Option(names = "--default-title", defaultValue = "${env:HOMING_NOTIFY_TITLE:-New messages}",
      description = "The title of an ALERT whose message set none (env HOMING_NOTIFY_TITLE).")
  String defaultTitle;

  @Option(names = "--default-body",
      defaultValue = "${env:HOMING_NOTIFY_BODY:-{waiting} new message(s)}",
      description = "The body of an ALERT whose message set none; {waiting} is the number of "
          + "waiting messages (env HOMING_NOTIFY_BODY).")
  String defaultBody;

  @Option(names = "--collapse-id", defaultValue = "${env:HOMING_NOTIFY_COLLAPSE_ID:-homing}",
      description = "The collapse id of every notification (apns-collapse-id, FCM collapse_key), "
          + "so that a device shows the newest (env HOMING_NOTIFY_COLLAPSE_ID).")
  String collapseId;

  @Option(names = "--max-age", defaultValue = "${env:HOMING_NOTIFY_MAX_AGE:-PT10M}",
      description = "A request older than this is dropped rather than sent late; retries stop "
          + "there too (env HOMING_NOTIFY_MAX_AGE).")
  Duration maxAge;

  @Option(names = "--min-backoff", defaultValue = "${env:HOMING_NOTIFY_MIN_BACKOFF:-PT1S}",
      description = "The wait before the first retry, doubled for each next one "
          + "(env HOMING_NOTIFY_MIN_BACKOFF).")
  Duration minBackoff;

  @Option(names = "--max-backoff", defaultValue = "${env:HOMING_NOTIFY_MAX_BACKOFF:-PT1M}",
      description = "The longest wait between retries (env HOMING_NOTIFY_MAX_BACKOFF).")
  Duration maxBackoff;

  @Option(names = "--max-in-flight", defaultValue = "${env:HOMING_NOTIFY_MAX_IN_FLIGHT:-10000}",
      description = "Requests being sent or retried at once; reading pauses above "
          + "(env HOMING_NOTIFY_MAX_IN_FLIGHT).")
  int maxInFlight;

  /** The providers configured; at least one. */
  List<PushProvider> providers() {
    List<PushProvider> providers = new ArrayList<>();
    try {
      if (!webhookSecrets.isEmpty() && !webhookSecrets.get(0).isBlank()) {
        providers.add(new WebhookProvider(new WebhookProvider.Settings(
            webhookSecrets.stream().map(String::trim).filter(s -> !s.isEmpty()).toList(),
            webhookAllow.stream().map(String::trim).filter(s -> !s.isEmpty()).toList(),
            webhookTimeout)));
      }
      if (!fcmServiceAccount.isBlank()) {
        providers.add(new FcmProvider(new FcmProvider.Settings(Path.of(fcmServiceAccount),
            fcmUrl, fcmTokenUrl.isBlank() ? Optional.empty() : Optional.of(
                URI.create(fcmTokenUrl)), Duration.ofSeconds(10))));
      }
      if (!apnsKey.isBlank() || !apnsCert.isBlank()) {
        if (!apnsKey.isBlank() && !apnsCert.isBlank()) {
          throw new IllegalArgumentException("--apns-key and --apns-cert: give one");
        }
        ApnsProvider.Auth auth = !apnsKey.isBlank()
            ? new ApnsProvider.TokenAuth(Path.of(apnsKey), apnsTeamId, apnsKeyId)
            : new ApnsProvider.CertificateAuth(Path.of(apnsCert), apnsCertPassword);
        providers.add(new ApnsProvider(new ApnsProvider.Settings(auth, apnsTopic,
            endpoint(apnsServer, ApnsProvider.PRODUCTION),
            endpoint(apnsSandboxServer, ApnsProvider.SANDBOX),
            apnsCa.isBlank() ? Optional.empty() : Optional.of(Path.of(apnsCa)),
            apnsConnections, Duration.ofSeconds(10))));
      }
    } catch (RuntimeException e) {
      providers.forEach(PushProvider::close);
      throw e;
    }
    if (providers.isEmpty()) {
      throw new IllegalArgumentException("no provider configured: give --webhook-secret, "
          + "--fcm-service-account, or --apns-key or --apns-cert");
    }
    return providers;
  }

  private static ApnsProvider.Endpoint endpoint(String hostPort, ApnsProvider.Endpoint fallback) {
    if (hostPort.isBlank()) {
      return fallback;
    }
    int colon = hostPort.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("APNs server '" + hostPort + "' (expected: host:port)");
    }
    try {
      return new ApnsProvider.Endpoint(hostPort.substring(0, colon),
          Integer.parseInt(hostPort.substring(colon + 1)));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("APNs server '" + hostPort + "' (expected: host:port)");
    }
  }

  NotifierPolicy policy() {
    return new NotifierPolicy(defaultMode, defaultTitle, defaultBody, collapseId, maxAge,
        minBackoff, maxBackoff, maxInFlight);
  }

  @Override
  public Integer call() throws InterruptedException {
    NotifierPolicy policy;
    List<PushProvider> providers;
    try {
      policy = policy();
      providers = providers();
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    AtomicReference<Notifier> running = new AtomicReference<>();
    MetricsEndpoint metrics = new MetricsEndpoint(new InetSocketAddress(host, metricsPort),
        () -> running.get() != null && !running.get().failed().isDone(),
        metricsTls.metricsTls());
    Notifier notifier;
    try {
      notifier = new Notifier(kafka.kafka(), new Topics(topicPrefix), groupId, instanceId,
          providers, policy, metrics.registry()).start();
      running.set(notifier);
    } catch (RuntimeException e) {
      metrics.close();
      providers.forEach(PushProvider::close);
      throw e;
    }
    return Lifecycle.runUntilStopped("notifier", () -> {
      notifier.close();
      metrics.close();
    }, notifier.failed());
  }

  public static void main(String[] args) {
    System.exit(ServiceCommand.run(new NotifierMain(), args));
  }
}
