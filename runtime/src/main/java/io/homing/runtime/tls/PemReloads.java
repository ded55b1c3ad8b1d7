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
 * #RELOAD_INTERVAL} until {@link #close}: certificates rotate by replacing the files.
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

  /**
   * Fails with IllegalArgumentException naming the first file that is not readable; the caller
   * has not started anything yet.
   */
  static void requireReadable(List<Path> files) {
    for (Path file : files) {
      if (!Files.isReadable(file)) {
        throw new IllegalArgumentException("TLS file " + file + " is not readable");
      }
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
