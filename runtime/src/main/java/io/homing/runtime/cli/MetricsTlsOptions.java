package io.homing.runtime.cli;

import io.homing.runtime.tls.ServerTls;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * The TLS of a service's {@code /metrics} and {@code /health} port (docs/security.md): a picocli
 * mixin of core and edges.
 */
public final class MetricsTlsOptions {
  @Option(names = "--metrics-tls-cert", defaultValue = "${env:HOMING_METRICS_TLS_CERT:-}",
      description = "PEM certificate chain: /metrics and /health are then served over HTTPS only; "
          + "with --metrics-tls-key; read again every minute, once it and its key both changed "
          + "(env HOMING_METRICS_TLS_CERT).")
  String certificate;

  @Option(names = "--metrics-tls-key", defaultValue = "${env:HOMING_METRICS_TLS_KEY:-}",
      description = "PKCS#8 PEM key of --metrics-tls-cert (env HOMING_METRICS_TLS_KEY).")
  String key;

  @Option(names = "--metrics-tls-client-ca", defaultValue = "${env:HOMING_METRICS_TLS_CLIENT_CA:-}",
      description = "PEM CA certificates of the scrapers' client certificates: /metrics then "
          + "answers 403 to a client without one; /health stays open "
          + "(env HOMING_METRICS_TLS_CLIENT_CA).")
  String clientCa;

  /** The metrics port's TLS, when configured; fails on options that do not go together. */
  public Optional<ServerTls> metricsTls() {
    return ServerTls.fromOptions("metrics-tls", certificate, key, clientCa);
  }
}
