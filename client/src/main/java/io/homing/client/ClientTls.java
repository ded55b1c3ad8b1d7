package io.homing.client;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.net.ssl.SSLException;

/**
 * The TLS side of {@code wss://} and {@code tls://}: the JDK's TLS (no native library needed),
 * the server's certificate verified against the trust anchors given, and its name checked against
 * the host of the URI (HTTPS rules: a DNS name or IP address in the certificate's SAN).
 */
final class ClientTls {
  private ClientTls() {}

  /**
   * A client context that trusts the certificates of {@code trustedCertificates} (PEM), or the
   * JDK's default trust store when null.
   */
  static SslContext context(Path trustedCertificates) {
    SslContextBuilder builder =
        SslContextBuilder.forClient()
            .sslProvider(SslProvider.JDK)
            .endpointIdentificationAlgorithm("HTTPS");
    if (trustedCertificates != null) {
      if (!Files.isReadable(trustedCertificates)) {
        throw new IllegalArgumentException(
            "trustedCertificates: " + trustedCertificates + " (expected: a readable PEM file)");
      }
      builder.trustManager(trustedCertificates.toFile());
    }
    try {
      return builder.build();
    } catch (SSLException | IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "trustedCertificates: cannot load " + trustedCertificates + ": " + e.getMessage(), e);
    }
  }
}
