package io.homing.client;

import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Channels to the Send API, in plaintext or over TLS (docs/security.md). With TLS, the server's
 * certificate must chain to {@code trustedCa} (else to the JDK's trust store) and name the host
 * of the target; with a client certificate, the channel authenticates as the sender a {@code
 * cert} line of the core's key file names. Credentials on calls are {@link SendApiKey}'s.
 */
public final class SendApiChannel {
  private SendApiChannel() {}

  /**
   * The TLS of a channel.
   *
   * @param trustedCa PEM CA certificates the server's must chain to; empty: the JDK's trust store
   * @param certificateChain PEM client certificate chain, for mutual TLS; with {@code privateKey}
   * @param privateKey its PKCS#8 PEM private key
   */
  public record Tls(Optional<Path> trustedCa, Optional<Path> certificateChain,
      Optional<Path> privateKey) {
    public Tls {
      Objects.requireNonNull(trustedCa, "trustedCa");
      if (certificateChain.isPresent() != privateKey.isPresent()) {
        throw new IllegalArgumentException(
            "a client certificate needs its private key (expected: both or neither)");
      }
    }

    ChannelCredentials credentials() {
      TlsChannelCredentials.Builder builder = TlsChannelCredentials.newBuilder();
      try {
        if (trustedCa.isPresent()) {
          builder.trustManager(trustedCa.get().toFile());
        }
        if (certificateChain.isPresent()) {
          builder.keyManager(certificateChain.get().toFile(), privateKey.get().toFile());
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the Send API TLS files " + this, e);
      }
      return builder.build();
    }
  }

  /** A channel to the Send API at {@code target} (host:port): TLS when {@code tls} is present. */
  public static ManagedChannel open(String target, Optional<Tls> tls) {
    return tls.isPresent()
        ? NettyChannelBuilder.forTarget(target, tls.get().credentials()).build()
        : NettyChannelBuilder.forTarget(target).usePlaintext().build();
  }
}
