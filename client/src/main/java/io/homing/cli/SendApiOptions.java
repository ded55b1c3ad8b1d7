package io.homing.cli;

import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.homing.api.ApiKey;
import io.homing.client.SendApiChannel;
import io.homing.client.SendApiKey;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Help.Visibility;
import picocli.CommandLine.Option;

/**
 * How a command reaches the Send API and proves its sender (docs/security.md): an API key or a
 * sender token as the bearer credential, and TLS with an optional client certificate. A picocli
 * mixin, shared by {@code homing-cli send} and the load generator.
 */
public final class SendApiOptions {
  @Option(names = {"--api-key", "--token"}, showDefaultValue = Visibility.NEVER,
      defaultValue = "${env:HOMING_API_KEY:-}",
      description = "The sender's Send API key, or a sender token (a JWT) (env HOMING_API_KEY); "
          + "default: the local stack's development key, or none with --tls-cert.")
  String credential;

  @Option(names = "--tls", description = "Reach the Send API over TLS; implied by --tls-ca and "
      + "--tls-cert. Default: plaintext.")
  boolean tls;

  @Option(names = "--tls-ca", defaultValue = "${env:HOMING_SEND_TLS_CA:-}",
      description = "PEM file of the CA the Send API's certificate must chain to; default: the "
          + "JDK's trust store (env HOMING_SEND_TLS_CA).")
  String ca;

  @Option(names = "--tls-cert", defaultValue = "${env:HOMING_SEND_CLIENT_CERT:-}",
      description = "PEM client certificate to authenticate the sender with (mutual TLS); "
          + "with --tls-key (env HOMING_SEND_CLIENT_CERT).")
  String certificate;

  @Option(names = "--tls-key", defaultValue = "${env:HOMING_SEND_CLIENT_KEY:-}",
      description = "PKCS#8 PEM private key of --tls-cert (env HOMING_SEND_CLIENT_KEY).")
  String key;

  /** A channel to the Send API at {@code target}, with the TLS these options ask for. */
  public ManagedChannel channel(String target) {
    // A key alone also asks for TLS, so that Tls refuses it rather than it being ignored.
    Optional<SendApiChannel.Tls> channelTls =
        tls || !ca.isEmpty() || !certificate.isEmpty() || !key.isEmpty()
        ? Optional.of(new SendApiChannel.Tls(path(ca), path(certificate), path(key)))
        : Optional.empty();
    return SendApiChannel.open(target, channelTls);
  }

  /**
   * The bearer credential for the calls, or none: a client certificate alone authenticates, and
   * a bearer credential would take its place.
   */
  public Optional<ClientInterceptor> callCredentials() {
    if (!credential.isEmpty()) {
      return Optional.of(SendApiKey.interceptor(credential));
    }
    return certificate.isEmpty()
        ? Optional.of(SendApiKey.interceptor(ApiKey.DEVELOPMENT)) : Optional.empty();
  }

  private static Optional<Path> path(String value) {
    return value.isEmpty() ? Optional.empty() : Optional.of(Path.of(value));
  }
}
