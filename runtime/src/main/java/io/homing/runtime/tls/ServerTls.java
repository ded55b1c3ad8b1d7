package io.homing.runtime.tls;

import io.grpc.ServerCredentials;
import io.grpc.TlsServerCredentials;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;

/**
 * The TLS of a server (gRPC's, or the metrics port's): its certificate chain and private key (PEM;
 * the key PKCS#8, {@code
 * BEGIN PRIVATE KEY}) and, for mutual TLS, the CA certificates (PEM) that client certificates
 * must chain to. Each file is read again every {@link #RELOAD_INTERVAL}, so certificates are
 * rotated by replacing the files (docs/security.md), the certificate chain together with its key:
 * new handshakes use the new ones, connections already open keep theirs.
 *
 * @param certificateChain the server's certificate, then its intermediates
 * @param privateKey the certificate's key
 * @param clientCa when present, clients are asked for a certificate, and one that does not chain
 *     to these CAs fails the handshake
 */
public record ServerTls(Path certificateChain, Path privateKey, Optional<Path> clientCa) {
  /** How often the files are read again. */
  public static final Duration RELOAD_INTERVAL = PemReloads.RELOAD_INTERVAL;

  public ServerTls {
    Objects.requireNonNull(certificateChain, "certificateChain");
    Objects.requireNonNull(privateKey, "privateKey");
    Objects.requireNonNull(clientCa, "clientCa");
  }

  /**
   * The TLS of a server configured by the options {@code --<prefix>-cert}, {@code
   * --<prefix>-key} and {@code --<prefix>-client-ca} (blank when not given), or empty when none
   * is; fails with IllegalArgumentException when they do not go together.
   */
  public static Optional<ServerTls> fromOptions(
      String prefix, String certificateChain, String privateKey, String clientCa) {
    if (certificateChain.isBlank() != privateKey.isBlank()) {
      throw new IllegalArgumentException("--" + prefix + "-cert and --" + prefix
          + "-key go together (expected: both or neither)");
    }
    if (certificateChain.isBlank()) {
      if (!clientCa.isBlank()) {
        throw new IllegalArgumentException("--" + prefix + "-client-ca needs --" + prefix
            + "-cert and --" + prefix + "-key (mutual TLS is TLS first)");
      }
      return Optional.empty();
    }
    return Optional.of(new ServerTls(Path.of(certificateChain), Path.of(privateKey),
        clientCa.isBlank() ? Optional.empty() : Optional.of(Path.of(clientCa))));
  }

  /**
   * The server credentials of a gRPC server, reloading the files until closed; fails with
   * IllegalArgumentException naming a file that cannot be read or used.
   *
   * @param requireClientCertificate with a client CA: whether a client without a certificate is
   *     refused in the handshake (else it may connect, and authenticate otherwise)
   */
  public Reloading<ServerCredentials> credentials(boolean requireClientCertificate) {
    return reloading(reloads -> {
      TlsServerCredentials.Builder builder = TlsServerCredentials.newBuilder()
          .keyManager(reloads.keyManager(certificateChain, privateKey));
      if (clientCa.isPresent()) {
        builder.trustManager(reloads.trustManager(clientCa.get(), false))
            .clientAuth(requireClientCertificate
                ? TlsServerCredentials.ClientAuth.REQUIRE
                : TlsServerCredentials.ClientAuth.OPTIONAL);
      }
      return builder.build();
    });
  }

  /**
   * A JDK TLS context with these files, for a server that is not gRPC's (the metrics endpoint),
   * reading them again until closed. With a client CA, a client certificate is checked against
   * it when the client presents one; whether one is required is the server's to decide.
   */
  public Reloading<SSLContext> sslContext() {
    return reloading(reloads -> {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(new KeyManager[] {reloads.keyManager(certificateChain, privateKey)},
          clientCa.isPresent()
              ? new TrustManager[] {reloads.trustManager(clientCa.get(), false)}
              : null,
          null);
      return context;
    });
  }

  private <T> Reloading<T> reloading(PemReloads.Build<T> build) {
    return PemReloads.reloading(files(), build);
  }

  private List<Path> files() {
    List<Path> files = new ArrayList<>(List.of(certificateChain, privateKey));
    clientCa.ifPresent(files::add);
    return files;
  }
}
