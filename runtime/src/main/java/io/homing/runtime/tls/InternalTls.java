package io.homing.runtime.tls;

import io.grpc.ChannelCredentials;
import io.grpc.ServerCredentials;
import io.grpc.TlsChannelCredentials;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Mutual TLS between Homing's own processes — core's delivery streams to the edges
 * (docs/security.md). Each process has a certificate of its own, signed by a CA that signs only
 * Homing's processes, and trusts no peer whose certificate does not chain to it: an edge refuses
 * a caller without such a certificate in the handshake, and core checks that an edge's
 * certificate names the host it dialled (or {@code serverName}). The files are read again every
 * {@link ServerTls#RELOAD_INTERVAL}.
 *
 * @param ca PEM certificates of the CA (or CAs, while one is rotated) peers must chain to
 * @param certificateChain this process's certificate (PEM), then its intermediates; with both
 *     {@code serverAuth} and {@code clientAuth} extended key usages where it has any
 * @param privateKey its PKCS#8 PEM key
 * @param serverName the name core expects in every edge's certificate, in place of the host of
 *     the edge's advertised address; unused by edges
 */
public record InternalTls(
    Path ca, Path certificateChain, Path privateKey, Optional<String> serverName) {

  public InternalTls {
    Objects.requireNonNull(ca, "ca");
    Objects.requireNonNull(certificateChain, "certificateChain");
    Objects.requireNonNull(privateKey, "privateKey");
    Objects.requireNonNull(serverName, "serverName");
    if (serverName.isPresent() && serverName.get().isBlank()) {
      throw new IllegalArgumentException("serverName: blank (expected: a host name, or none)");
    }
  }

  /** What a server asks of its callers: a certificate that chains to {@link #ca}. */
  public Reloading<ServerCredentials> serverCredentials() {
    return new ServerTls(certificateChain, privateKey, Optional.of(ca)).credentials(true);
  }

  /**
   * What a client presents and checks: this process's certificate, and a server certificate that
   * chains to {@link #ca} and names the host dialled (or {@link #serverName}); until closed.
   */
  public Reloading<ChannelCredentials> channelCredentials() {
    return PemReloads.reloading(List.of(ca, certificateChain, privateKey),
        reloads -> TlsChannelCredentials.newBuilder()
            .keyManager(reloads.keyManager(certificateChain, privateKey))
            .trustManager(reloads.trustManager(ca, true))
            .build());
  }
}
