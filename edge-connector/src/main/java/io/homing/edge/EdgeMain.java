package io.homing.edge;

import io.homing.api.Topics;
import io.homing.edge.session.EdgeLimits;
import io.homing.edge.transport.TlsFiles;
import io.homing.runtime.Lifecycle;
import io.homing.runtime.auth.TokenSettings;
import io.homing.runtime.cli.ConnectionOptions;
import io.homing.runtime.cli.ConfigOptions;
import io.homing.runtime.cli.MetricsTlsOptions;
import io.homing.runtime.cli.ServiceCommand;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code java -jar homing-edge.jar}: runs one edge node until SIGTERM or Ctrl-C. */
@Command(
    name = "homing-edge",
    mixinStandardHelpOptions = true,
    description = "Holds client connections and delivers what delivery-core sends them.",
    showDefaultValues = true)
public final class EdgeMain implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--node-id", defaultValue = "${env:HOMING_NODE_ID:-edge-1}",
      description = "Unique id of this node (env HOMING_NODE_ID).")
  String nodeId;

  @Option(names = "--host", defaultValue = "${env:HOMING_HOST:-127.0.0.1}",
      description = "Address to listen on for clients and core (env HOMING_HOST).")
  String host;

  @Option(names = "--ws-port", defaultValue = "${env:HOMING_WS_PORT:-7410}",
      description = "WebSocket port; clients connect to ws://host:port/ws (env HOMING_WS_PORT).")
  int wsPort;

  @Option(names = "--tcp-port", defaultValue = "${env:HOMING_TCP_PORT:-7412}",
      description = "Raw TCP port: varint32-delimited protobuf frames (env HOMING_TCP_PORT).")
  int tcpPort;

  @Option(names = "--tls-cert", defaultValue = "${env:HOMING_TLS_CERT:-}",
      description = "PEM certificate chain: the WebSocket/HTTP and TCP ports then serve TLS only "
          + "(wss://, https://); needs --tls-key (env HOMING_TLS_CERT).")
  String tlsCert;

  @Option(names = "--tls-key", defaultValue = "${env:HOMING_TLS_KEY:-}",
      description = "PEM private key (PKCS#8) of --tls-cert (env HOMING_TLS_KEY).")
  String tlsKey;

  @Option(names = "--grpc-port", defaultValue = "${env:HOMING_EDGE_GRPC_PORT:-7420}",
      description = "Port of the internal API core delivers through (env HOMING_EDGE_GRPC_PORT).")
  int grpcPort;

  @Option(names = "--metrics-port", defaultValue = "${env:HOMING_METRICS_PORT:-7430}",
      description = "Port of /metrics (Prometheus) and /health (env HOMING_METRICS_PORT).")
  int metricsPort;

  @Option(names = "--advertised-grpc", defaultValue = "${env:HOMING_ADVERTISED_GRPC:-}",
      description = "host:port core dials to reach this node; default host:grpc-port "
          + "(env HOMING_ADVERTISED_GRPC).")
  String advertisedGrpc;

  @Mixin ConnectionOptions connections;

  @Mixin MetricsTlsOptions metricsTls;

  @Mixin ConfigOptions configFile;

  @Option(names = "--topic-prefix", defaultValue = "${env:HOMING_TOPIC_PREFIX:-}",
      description = "Prefix of the Kafka topic names (env HOMING_TOPIC_PREFIX).")
  String topicPrefix;

  @Option(names = "--jwt-secret", defaultValue = "${env:HOMING_JWT_SECRET:-}",
      showDefaultValue = CommandLine.Help.Visibility.NEVER,
      description = "HS256 secret client tokens may be signed with, >= 32 chars; default none: "
          + "HS256 tokens are refused. This, --jwks-url or both (env HOMING_JWT_SECRET).")
  String jwtSecret;

  @Option(names = "--jwks-url", defaultValue = "${env:HOMING_JWKS_URL:-}",
      description = "http(s) URL of the JWK set holding the keys of RS256 and ES256 tokens; "
          + "default none: those are refused (env HOMING_JWKS_URL).")
  String jwksUrl;

  @Option(names = "--jwks-refresh", defaultValue = "${env:HOMING_JWKS_REFRESH:-PT5M}",
      description = "How long a fetched JWK set is cached, ISO-8601, >= PT2S "
          + "(env HOMING_JWKS_REFRESH).")
  Duration jwksRefresh;

  @Option(names = "--jwt-issuer", defaultValue = "${env:HOMING_JWT_ISSUER:-}",
      description = "When set, a token's iss must equal it; default none: any or no iss "
          + "(env HOMING_JWT_ISSUER).")
  String jwtIssuer;

  @Option(names = "--jwt-audience", defaultValue = "${env:HOMING_JWT_AUDIENCE:-}",
      description = "When set, a token's aud must contain it; default none: any or no aud "
          + "(env HOMING_JWT_AUDIENCE).")
  String jwtAudience;

  @Option(names = "--auth-timeout", defaultValue = "${env:HOMING_AUTH_TIMEOUT:-PT5S}",
      description = "Time a client has to send Auth, ISO-8601 (env HOMING_AUTH_TIMEOUT).")
  Duration authTimeout;

  @Option(names = "--heartbeat", defaultValue = "${env:HOMING_HEARTBEAT:-PT30S}",
      description = "Ping interval suggested to clients (env HOMING_HEARTBEAT).")
  Duration heartbeat;

  @Option(names = "--idle-timeout", defaultValue = "${env:HOMING_IDLE_TIMEOUT:-PT90S}",
      description = "A connection silent this long is closed, at most P1D"
          + " (env HOMING_IDLE_TIMEOUT).")
  Duration idleTimeout;

  @Option(names = "--max-frame-bytes", defaultValue = "${env:HOMING_MAX_FRAME_BYTES:-65536}",
      description = "Largest frame a client may send (env HOMING_MAX_FRAME_BYTES).")
  int maxFrameBytes;

  @Option(names = "--presence-ttl", defaultValue = "${env:HOMING_PRESENCE_TTL:-PT10S}",
      description = "Lifetime of this node's liveness key without refresh "
          + "(env HOMING_PRESENCE_TTL).")
  Duration presenceTtl;

  @Option(names = "--key-prefix", defaultValue = "${env:HOMING_KEY_PREFIX:-homing:}",
      description = "Prefix of every Redis key (env HOMING_KEY_PREFIX).")
  String keyPrefix;

  @Option(names = "--cors-origins", defaultValue = "${env:HOMING_CORS_ORIGINS:-}", split = ",",
      description = "Comma-separated origins (scheme://host[:port]) browsers may call the HTTP "
          + "fallback from, or * for any; empty: no CORS headers (env HOMING_CORS_ORIGINS).")
  List<String> corsOrigins;

  @Option(names = "--max-frames-per-second",
      defaultValue = "${env:HOMING_MAX_FRAMES_PER_SECOND:-500}",
      description = "Frames one connection may send per second, sustained; above it and its "
          + "burst the connection gets Error RATE_LIMITED and is closed "
          + "(env HOMING_MAX_FRAMES_PER_SECOND).")
  int framesPerSecond;

  @Option(names = "--frame-burst", defaultValue = "${env:HOMING_FRAME_BURST:-2000}",
      description = "Frames one connection may send at once above --max-frames-per-second "
          + "(env HOMING_FRAME_BURST).")
  int frameBurst;

  @Option(names = "--max-publishes-per-second",
      defaultValue = "${env:HOMING_MAX_PUBLISHES_PER_SECOND:-100}",
      description = "Publish and SetPushTarget frames one user may send per second through "
          + "this node, all her connections together; above it and its burst the frame gets "
          + "RATE_LIMITED (env HOMING_MAX_PUBLISHES_PER_SECOND).")
  int publishesPerSecond;

  @Option(names = "--publish-burst", defaultValue = "${env:HOMING_PUBLISH_BURST:-200}",
      description = "Publish and SetPushTarget frames one user may send at once above --max-publishes-per-second "
          + "(env HOMING_PUBLISH_BURST).")
  int publishBurst;

  @Option(names = "--max-connections-per-user",
      defaultValue = "${env:HOMING_MAX_CONNECTIONS_PER_USER:-16}",
      description = "Connections (devices) one user may hold on this node; one more gets Error "
          + "RATE_LIMITED and is closed (env HOMING_MAX_CONNECTIONS_PER_USER).")
  int connectionsPerUser;

  @Option(names = "--max-unauthenticated",
      defaultValue = "${env:HOMING_MAX_UNAUTHENTICATED:-10000}",
      description = "Connections this node holds that have not authenticated yet; one more is "
          + "refused: HTTP 429 on the WebSocket port, Error RATE_LIMITED on the TCP port "
          + "(env HOMING_MAX_UNAUTHENTICATED).")
  int unauthenticated;

  @Option(names = "--max-unauthenticated-per-address",
      defaultValue = "${env:HOMING_MAX_UNAUTHENTICATED_PER_ADDRESS:-256}",
      description = "Of those, the most from one client IP address "
          + "(env HOMING_MAX_UNAUTHENTICATED_PER_ADDRESS).")
  int unauthenticatedPerAddress;

  @Option(names = "--push-webhook-allow", defaultValue = "${env:HOMING_PUSH_WEBHOOK_ALLOW:-}",
      split = ",", description = "URL prefixes (comma-separated) the webhook push target a client sets must "
          + "start with, e.g. https://hooks.example.com/; end each with a '/' (env "
          + "HOMING_PUSH_WEBHOOK_ALLOW; default: none, clients may not set webhook targets).")
  List<String> pushWebhookAllow;

  EdgeConfig config() {
    String advertised = advertisedGrpc.isBlank() ? host + ':' + grpcPort : advertisedGrpc;
    if (tlsCert.isBlank() != tlsKey.isBlank()) {
      throw new CommandLine.ParameterException(new CommandLine(this),
          "--tls-cert and --tls-key go together");
    }
    return new EdgeConfig(
        nodeId,
        new InetSocketAddress(host, wsPort),
        new InetSocketAddress(host, tcpPort),
        new InetSocketAddress(host, grpcPort),
        new InetSocketAddress(host, metricsPort),
        advertised,
        connections.redis(),
        connections.kafka(),
        new Topics(topicPrefix),
        tokens(),
        authTimeout,
        heartbeat,
        idleTimeout,
        maxFrameBytes,
        presenceTtl,
        keyPrefix,
        tlsCert.isBlank() ? null : new TlsFiles(Path.of(tlsCert), Path.of(tlsKey)),
        corsOrigins.stream().map(String::trim).filter(o -> !o.isEmpty()).toList(),
        new EdgeLimits(framesPerSecond, frameBurst, publishesPerSecond, publishBurst,
            connectionsPerUser, unauthenticated, unauthenticatedPerAddress),
        pushWebhookAllow.stream().map(String::trim).filter(p -> !p.isEmpty()).toList(),
        connections.internalTls(Optional.empty()),
        metricsTls.metricsTls());
  }

  private TokenSettings tokens() {
    return new TokenSettings(
        given(jwtSecret),
        given(jwksUrl).map(EdgeMain::url),
        jwksRefresh,
        given(jwtIssuer),
        given(jwtAudience));
  }

  private static Optional<String> given(String value) {
    return value == null || value.isBlank() ? Optional.empty() : Optional.of(value);
  }

  private static URI url(String value) {
    try {
      return new URI(value);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("jwksUrl: " + value + " (expected: a URL)", e);
    }
  }

  @Override
  public Integer call() throws InterruptedException {
    if (given(jwtSecret).isEmpty() && given(jwksUrl).isEmpty()) {
      throw new ParameterException(spec.commandLine(),
          "Missing --jwt-secret or --jwks-url (env HOMING_JWT_SECRET, HOMING_JWKS_URL): "
              + "client tokens need a key, give one or both");
    }
    EdgeConfig config;
    try {
      config = config();
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    EdgeServer server = new EdgeServer(config).start();
    return Lifecycle.runUntilStopped("edge", server, new CompletableFuture<>());
  }

  public static void main(String[] args) {
    System.exit(ServiceCommand.run(new EdgeMain(), args));
  }
}
