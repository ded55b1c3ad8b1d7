package io.homing.runtime.tls;

import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.AdvancedTlsX509TrustManager;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Key and trust managers over PEM files that one daemon thread reads again every {@link
 * #RELOAD_INTERVAL} until {@link #close}: certificates rotate by replacing the files. A
 * certificate chain and its key are taken once both files have changed (gRPC's reloader waits
 * for both, so that it never pairs a new certificate with the old key).
 */
final class PemReloads implements Closeable {
  /** How often the files are read again. */
  static final Duration RELOAD_INTERVAL = Duration.ofMinutes(1);

  private final ScheduledExecutorService reloads =
      Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "homing-tls-reload");
        thread.setDaemon(true);
        return thread;
      });

  /** Builds credentials from the reloading key and trust managers of {@link PemReloads}. */
  @FunctionalInterface
  interface Build<T> {
    T build(PemReloads reloads) throws IOException, GeneralSecurityException;
  }

  /**
   * Credentials built over {@code files}, read again until closed; fails with
   * IllegalArgumentException naming a file that cannot be read or used, having started nothing.
   */
  static <T> Reloading<T> reloading(List<Path> files, Build<T> build) {
    for (Path file : files) {
      if (!Files.isReadable(file)) {
        throw new IllegalArgumentException("TLS file " + file + " is not readable");
      }
    }
    PemReloads reloads = new PemReloads();
    try {
      return new Reloading<>(build.build(reloads), reloads);
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      reloads.close();
      throw new IllegalArgumentException("cannot use the TLS files " + files + ": " + e, e);
    }
  }

  /** The certificate chain and its PKCS#8 key. */
  AdvancedTlsX509KeyManager keyManager(Path certificateChain, Path privateKey)
      throws IOException, GeneralSecurityException {
    AdvancedTlsX509KeyManager keys = new AdvancedTlsX509KeyManager();
    keys.updateIdentityCredentials(certificateChain.toFile(), privateKey.toFile(),
        RELOAD_INTERVAL.toSeconds(), TimeUnit.SECONDS, reloads);
    return keys;
  }

  /**
   * Trusts the certificates that chain to the CAs of {@code ca}; with {@code checkHostName} (a
   * client checking a server) the certificate must also name the host dialled.
   */
  AdvancedTlsX509TrustManager trustManager(Path ca, boolean checkHostName)
      throws IOException, GeneralSecurityException {
    AdvancedTlsX509TrustManager trust = AdvancedTlsX509TrustManager.newBuilder()
        .setVerification(checkHostName
            ? AdvancedTlsX509TrustManager.Verification.CERTIFICATE_AND_HOST_NAME_VERIFICATION
            : AdvancedTlsX509TrustManager.Verification.CERTIFICATE_ONLY_VERIFICATION)
        .build();
    trust.updateTrustCredentials(ca.toFile(), RELOAD_INTERVAL.toSeconds(), TimeUnit.SECONDS,
        reloads);
    return trust;
  }

  /** Stops reading the files again. Idempotent. */
  @Override
  public void close() {
    reloads.shutdownNow();
  }
}
