package io.homing.runtime.tls;

import io.grpc.ServerCredentials;
import io.grpc.TlsServerCredentials;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;

/**
 * The TLS of a gRPC server: its certificate chain and private key (PEM; the key PKCS#8, {@code
 * BEGIN PRIVATE KEY}) and, for mutual TLS, the CA certificates (PEM) that client certificates
 * must chain to. Each file is read again every {@link #RELOAD_INTERVAL}, so certificates are
 * rotated by replacing the files (docs/security.md): new handshakes use the new ones,
 * connections already open keep theirs.
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
   * The server credentials, reloading the files until {@link Reloading#close}; fails with
   * IllegalArgumentException naming a file that cannot be read or used.
   *
   * @param requireClientCertificate with a client CA: whether a client without a certificate is
   *     refused in the handshake (else it may connect, and authenticate otherwise)
   */
  public Reloading credentials(boolean requireClientCertificate) {
    PemReloads.requireReadable(files());
    PemReloads reloads = new PemReloads();
    try {
      TlsServerCredentials.Builder builder = TlsServerCredentials.newBuilder()
          .keyManager(reloads.keyManager(certificateChain, privateKey));
      if (clientCa.isPresent()) {
        builder.trustManager(reloads.trustManager(clientCa.get(), false))
            .clientAuth(requireClientCertificate
                ? TlsServerCredentials.ClientAuth.REQUIRE
                : TlsServerCredentials.ClientAuth.OPTIONAL);
      }
      return new Reloading(builder.build(), reloads);
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      reloads.close();
      throw new IllegalArgumentException("cannot use the TLS files " + files() + ": " + e, e);
    }
  }

  /**
   * A JDK TLS context with these files, for a server that is not gRPC's (the metrics endpoint),
   * reading them again until {@link ReloadingContext#close}. With a client CA, a client
   * certificate is checked against it when the client presents one; whether one is required is
   * the server's to decide ({@link ReloadingContext#verifiesClients}).
   */
  public ReloadingContext sslContext() {
    PemReloads.requireReadable(files());
    PemReloads reloads = new PemReloads();
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(new KeyManager[] {reloads.keyManager(certificateChain, privateKey)},
          clientCa.isPresent()
              ? new TrustManager[] {reloads.trustManager(clientCa.get(), false)}
              : null,
          null);
      return new ReloadingContext(context, clientCa.isPresent(), reloads);
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      reloads.close();
      throw new IllegalArgumentException("cannot use the TLS files " + files() + ": " + e, e);
    }
  }

  private List<Path> files() {
    List<Path> files = new ArrayList<>(List.of(certificateChain, privateKey));
    clientCa.ifPresent(files::add);
    return files;
  }

  /** A JDK TLS context whose files are read again until closed. */
  public static final class ReloadingContext implements Closeable {
    private final SSLContext context;
    private final boolean verifiesClients;
    private final PemReloads reloads;

    ReloadingContext(SSLContext context, boolean verifiesClients, PemReloads reloads) {
      this.context = context;
      this.verifiesClients = verifiesClients;
      this.reloads = reloads;
    }

    public SSLContext context() {
      return context;
    }

    /** Whether client certificates are checked against a client CA. */
    public boolean verifiesClients() {
      return verifiesClients;
    }

    /** Stops reading the files again. Idempotent. */
    @Override
    public void close() {
      reloads.close();
    }
  }

  /** Server credentials whose files are read again until closed. */
  public static final class Reloading implements Closeable {
    private final ServerCredentials credentials;
    private final PemReloads reloads;

    Reloading(ServerCredentials credentials, PemReloads reloads) {
      this.credentials = credentials;
      this.reloads = reloads;
    }

    public ServerCredentials credentials() {
      return credentials;
    }

    /** Stops reading the files again. Idempotent. */
    @Override
    public void close() {
      reloads.close();
    }
  }
}
